import { serve, type ServerType } from '@hono/node-server';
import { statfs } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Readable } from 'node:stream';
import type { Config } from '../config.js';
import { connectionServerOptions, watchConnections } from '../http/connection-limits.js';
import { createPeerApp } from '../http/peer-routes.js';
import type { CenterPki } from '../pki/center-pki.js';
import type { Principal } from '../registry/principal.js';
import type { RegistrationView } from '../registry/registration-view.js';
import type { CopyCountCursor } from '../store/copy-counts-repository.js';
import type { ReplicaKind } from '../store/database.js';
import { finishDownload, insertDownload } from '../store/preservation-repository.js';
import type { Store } from '../store/store.js';
import { backupStatus, countBelowMinimum, type BackupStatus } from './backup-status.js';
import { FixityAuditor, type AuditSummary } from './fixity-auditor.js';
import { HeldCopies } from './held-copies.js';
import { HttpsPeer, type Peer } from './peer-client.js';
import { loadTlsIdentity, type TlsIdentity } from './peer-tls.js';
import { PreservationLog } from './preservation-log.js';
import { Replicator } from './replicator.js';
import { Vault } from './vault.js';
import { VaultError } from './vault-error.js';

const MAX_TIMER_MS = 2 ** 31 - 1;

export interface BackupServiceOptions {
  config: Config;
  store: Store;
  pki: CenterPki;
  log: (line: string) => void;
  now?: () => Date;
}

/**
 * The backup half of the center, put together: the encrypted vault, the peers (replication
 * out, the mutual-TLS listener in), fixity audits and alarms. Built with the center; `start()`
 * opens the peer listener and the timers, `stop()` closes them.
 */
export class BackupService {
  readonly vault: Vault;
  readonly events: PreservationLog;
  readonly held: HeldCopies;
  readonly peers: readonly Peer[];
  readonly replicator: Replicator | undefined;
  readonly auditor: FixityAuditor;
  readonly tls: TlsIdentity | undefined;
  private readonly config: Config;
  private readonly store: Store;
  private readonly log: (line: string) => void;
  private listener: ServerType | undefined;
  private auditTimer: NodeJS.Timeout | undefined;
  private watchTimer: NodeJS.Timeout | undefined;
  private nextAuditAt = 0;
  private started = false;

  constructor(options: BackupServiceOptions) {
    const { config, store, pki, log } = options;
    this.config = config;
    this.store = store;
    this.log = log;
    const now = options.now ?? (() => new Date());
    const backup = config.backup;
    this.events = new PreservationLog(store, log, `center ${config.centerId}`, now);
    this.vault = new Vault({
      root: join(config.dataDir, 'blobs'),
      store,
      masterKey: Vault.loadMasterKey(store, backup.masterKeyFile),
      now,
      onStored: (blob) => {
        this.events.event({
          type: 'ingestion',
          objectKind: 'blob',
          objectId: blob.sha256,
          copy: 'local',
          outcome: 'success',
          detail: `${blob.size} bytes, SHA-256 and SM3 ${blob.sm3} computed on arrival; stored encrypted (AES-256-GCM, 1 MiB segments, ${blob.cipherSize} bytes)`,
        });
        this.replicator?.nudge();
      },
    });
    const roots = pki.roots.map((r) => r.pem);
    this.held = new HeldCopies({ root: join(config.dataDir, 'held'), store, trustRoots: roots, now });
    this.tls = backup.tlsCertFile && backup.tlsKeyFile ? loadTlsIdentity(backup, roots) : undefined;
    this.peers = this.tls ? backup.peers.map((p) => new HttpsPeer(p, this.tls!)) : [];
    this.replicator =
      this.peers.length > 0
        ? new Replicator({
            store,
            vault: this.vault,
            peers: this.peers,
            centerId: config.centerId,
            signer: pki.center,
            events: this.events,
            log,
            pollMs: backup.replicationPollMs,
            maxBackoffMs: backup.replicationMaxBackoffMs,
            ...(config.chains.kind === 'local' && { chainDir: join(config.dataDir, 'chain') }),
            now,
          })
        : undefined;
    this.auditor = new FixityAuditor({
      store,
      vault: this.vault,
      peers: this.peers,
      replicator: this.replicator,
      events: this.events,
      intervalMs: backup.auditIntervalMs || 24 * 3600 * 1000,
      cycleDays: backup.auditCycleDays,
      now,
    });
  }

  /**
   * Clears what a crash or kill left in the vault: unfinished upload files, and blobs stored
   * whose registration never committed (each recorded as a PREMIS deletion event). Call it once
   * at start, before the center takes uploads and before replication resumes: an upload in flight
   * leaves exactly such files and blobs for a moment.
   */
  async removeInterruptedUploads(): Promise<void> {
    const leftovers = await this.vault.removeTemporaryFiles();
    if (leftovers > 0) this.log(`removed ${leftovers} unfinished upload file(s) left in the vault's tmp directory`);
    const orphans = await this.vault.removeUnregisteredBlobs();
    for (const orphan of orphans) {
      this.events.event({
        type: 'deletion',
        objectKind: 'blob',
        objectId: orphan.sha256,
        copy: 'local',
        outcome: 'success',
        detail:
          `no registration refers to this blob (${orphan.size} bytes): its upload was cut short (a crash or kill) after the blob was stored ` +
          'and before its registration was committed, so it could never be downloaded or deleted; removed at start, with its replication queue' +
          (orphan.peers.length > 0 ? ` (peers ${orphan.peers.join(', ')} had confirmed a copy, which they keep)` : ''),
      });
    }
    if (orphans.length > 0) this.log(`removed ${orphans.length} vault blob(s) no registration refers to (uploads cut short before their registration was committed)`);
    const files = await this.auditor.removeFilesWithoutRow('start');
    if (files.length > 0) this.log(`removed ${files.length} vault file(s) with no vault record (a kill between a blob's move into place and its record)`);
    const heldFiles = await this.held.removeFilesWithoutRow();
    if (heldFiles.length > 0) this.log(`removed ${heldFiles.length} file(s) held for peers that no record names (a kill between a copy's file and its record)`);
  }

  /** Opens the peer listener (when configured) and starts replication, audits and the watch; resolves with the listener's URL. */
  async start(): Promise<{ peerUrl?: string }> {
    const backup = this.config.backup;
    let peerUrl: string | undefined;
    if (backup.peerPort !== null && this.tls) {
      const app = createPeerApp({ centerId: this.config.centerId, peers: backup.peers, held: this.held, log: this.log });
      const tls = this.tls;
      this.listener = await new Promise<ServerType>((resolve, reject) => {
        const server = serve(
          {
            fetch: app.fetch,
            hostname: this.config.host,
            port: backup.peerPort!,
            createServer,
            serverOptions: { cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true, rejectUnauthorized: true, ...connectionServerOptions(this.config.connections) },
          },
          () => resolve(server),
        );
        watchConnections(server as Server, this.config.connections);
        server.once('error', reject);
      });
      const { port } = this.listener.address() as AddressInfo;
      peerUrl = `https://${this.config.host.includes(':') ? `[${this.config.host}]` : this.config.host}:${port}`;
    }
    this.started = true;
    this.replicator?.start();
    if (backup.auditIntervalMs > 0) {
      this.nextAuditAt = Date.now() + backup.auditIntervalMs;
      this.armAudit();
    }
    this.armWatch(0);
    return { ...(peerUrl && { peerUrl }) };
  }

  async stop(): Promise<void> {
    this.started = false;
    if (this.auditTimer) clearTimeout(this.auditTimer);
    if (this.watchTimer) clearTimeout(this.watchTimer);
    const listener = this.listener;
    this.listener = undefined;
    if (listener) {
      await new Promise<void>((resolve) => {
        listener.close(() => resolve());
        (listener as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
    }
    await this.replicator?.stop();
    for (const peer of this.peers) peer.close();
    await this.vault.close();
  }

  /** Runs a fixity audit now (the scheduled share, or every copy). */
  audit(options: { all?: boolean } = {}): Promise<AuditSummary> {
    return this.auditor.run(options);
  }

  /** One replication pass now (no-op without peers). */
  async replicate(): Promise<void> {
    await this.replicator?.runOnce();
  }

  status(options: { limit: number; kind?: ReplicaKind; belowMinimumOnly?: boolean; after?: CopyCountCursor }): BackupStatus {
    return backupStatus(this.store, { ...options, minCopies: this.config.backup.minCopies, peers: this.config.backup.peers });
  }

  /**
   * The original of a registration as a streamed response: checked against the registered
   * digests on the way out (a mismatch aborts the response before its last bytes and raises
   * an alarm), recorded in `download` (who, when, which, how it ended) and as a PREMIS
   * dissemination event.
   */
  async download(principal: Principal, view: RegistrationView): Promise<Response> {
    const sha256 = view.digests.sha256;
    const at = () => new Date().toISOString();
    const downloadId = insertDownload(this.store, { registrationId: view.id, accountId: principal.accountId, at: at() });
    // Who: the account (a unit's is shared by its users) and the user who asked.
    const agent = `account ${principal.accountId} (${principal.name}, ${principal.role}${principal.username ? `, user ${principal.username}` : ''})`;
    let reader;
    try {
      reader = await this.vault.open(sha256, { ...(view.digests.sm3 !== undefined && { sm3: view.digests.sm3 }), ...(view.record.size !== undefined && { size: view.record.size }) });
    } catch (err) {
      finishDownload(this.store, downloadId, 'aborted', 0, at());
      const problem = (err as Error).message;
      this.events.event({ type: 'dissemination', objectKind: 'registration', objectId: String(view.id), copy: 'local', agent, outcome: 'failure', detail: problem });
      if (err instanceof VaultError && err.code !== 'BLOB_NOT_FOUND') this.events.raise('download-digest-mismatch', `registration ${view.id}`, `the original of registration ${view.id} could not be given out: ${problem}`);
      else this.events.raise('audit-failed', `blob ${sha256} @ local`, `the original of registration ${view.id} is missing from the vault`);
      void this.repairInBackground(sha256);
      throw err;
    }
    let bytes = 0;
    const counted = new PassThrough({ highWaterMark: 1 << 20 });
    counted.on('data', (chunk: Buffer) => (bytes += chunk.length));
    let finished = false;
    const finish = (outcome: 'complete' | 'aborted' | 'digest-mismatch', detail: string) => {
      if (finished) return;
      finished = true;
      finishDownload(this.store, downloadId, outcome, bytes, at());
      this.events.event({
        type: 'dissemination',
        objectKind: 'registration',
        objectId: String(view.id),
        copy: 'local',
        agent,
        outcome: outcome === 'complete' ? 'success' : outcome === 'aborted' ? 'warning' : 'failure',
        detail,
      });
    };
    reader.stream.on('error', (err) => {
      const mismatch = err instanceof VaultError && (err.code === 'DIGEST_MISMATCH' || err.code === 'BLOB_CORRUPT');
      finish(mismatch ? 'digest-mismatch' : 'aborted', `${err.message} (response aborted after ${bytes} bytes)`);
      if (mismatch) {
        this.events.raise('download-digest-mismatch', `registration ${view.id}`, `the original of registration ${view.id} failed its check on the way out: ${err.message}`);
        void this.repairInBackground(sha256);
      }
      counted.destroy(err);
    });
    reader.stream.on('end', () => {
      finish('complete', `${bytes} bytes given out, SHA-256 and SM3 checked`);
      // The whole original matched its registered digests on the way out: any earlier mismatch is mended.
      this.events.clear('download-digest-mismatch', `registration ${view.id}`);
    });
    counted.on('close', () => {
      if (!finished) {
        finish('aborted', `the client went away after ${bytes} bytes`);
        reader.stream.destroy();
      }
    });
    reader.stream.pipe(counted);
    const fileName = view.record.fileName ?? `registration-${view.id}`;
    return new Response(Readable.toWeb(counted) as unknown as ReadableStream, {
      headers: {
        'content-type': view.record.mediaType ?? 'application/octet-stream',
        'content-length': String(reader.size),
        'content-disposition': contentDisposition(fileName),
        'cache-control': 'no-store',
        'x-archive-seal-sha256': sha256,
        ...(view.digests.sm3 !== undefined && { 'x-archive-seal-sm3': view.digests.sm3 }),
      },
    });
  }

  /** Checks, and where needed repairs, one local blob (after a failed download). */
  private async repairInBackground(sha256: string): Promise<void> {
    try {
      const row = this.vault.rowOf(sha256);
      if (!row) return;
      const check = await this.vault.checkLocal(sha256);
      if (check.ok) return;
      this.events.event({ type: 'fixity check', objectKind: 'blob', objectId: sha256, copy: 'local', outcome: 'failure', detail: check.problem ?? 'failed' });
      if (await this.auditor.repairLocal(row)) this.events.clear('audit-failed', `blob ${sha256} @ local`);
    } catch (err) {
      this.log(`repair of blob ${sha256} failed: ${(err as Error).message}`);
    }
  }

  /** Raises or clears the standing alarms: copies below the minimum, low disk. */
  async watch(): Promise<void> {
    const { minCopies, minFreeDiskBytes, peers } = this.config.backup;
    const below = countBelowMinimum(this.store, minCopies);
    const hourAgo = new Date(Date.now() - 3600_000).toISOString();
    const stuck = this.store
      .prepare(
        "SELECT count(*) FROM replica WHERE (status != 'verified' AND (attempts > 0 OR status IN ('damaged', 'missing') OR created_at < ?)) OR (status = 'verified' AND audit_outcome = 'unreachable')",
      )
      .pluck()
      .get(hourAgo) as number;
    const cannotMeet = peers.length + 1 < minCopies;
    if (below.blobs + below.periods > 0 && (stuck > 0 || cannotMeet)) {
      this.events.raise(
        'copies-below-minimum',
        'vault',
        `${below.blobs} of ${below.blobTotal} blobs and ${below.periods} of ${below.periodTotal} sealed periods have fewer than ${minCopies} verified copies` +
          (cannotMeet ? ` (only ${peers.length} peer${peers.length === 1 ? '' : 's'} configured)` : ''),
      );
    } else if (below.blobs + below.periods === 0) {
      this.events.clear('copies-below-minimum', 'vault');
    }
    try {
      const fs = await statfs(this.config.dataDir);
      const free = fs.bavail * fs.bsize;
      if (free < minFreeDiskBytes) {
        this.events.raise('low-disk', this.config.dataDir, `only ${Math.floor(free / 1024 ** 2)} MiB free on the data directory's disk (minimum ${Math.floor(minFreeDiskBytes / 1024 ** 2)} MiB)`);
      } else {
        this.events.clear('low-disk', this.config.dataDir);
      }
    } catch (err) {
      this.log(`disk check failed: ${(err as Error).message}`);
    }
  }

  private armWatch(delay: number): void {
    // Counting copies reads every blob's row: once a minute at the defaults, sooner when polling fast (tests).
    const every = Math.max(1000, Math.min(60_000, this.config.backup.replicationPollMs * 12));
    this.watchTimer = setTimeout(() => {
      void this.watch()
        .catch((err) => this.log(`backup watch failed: ${(err as Error).message}`))
        .then(() => this.auditor.retryRepairs())
        .then((r) => {
          if (r && r.repaired > 0) this.log(`repaired ${r.repaired} damaged or missing local blob(s) from peers`);
        })
        .catch((err) => this.log(`repair retry failed: ${(err as Error).message}`))
        .finally(() => {
          if (this.started) this.armWatch(every);
        });
    }, delay);
  }

  private armAudit(): void {
    const wait = Math.min(Math.max(this.nextAuditAt - Date.now(), 0), MAX_TIMER_MS);
    this.auditTimer = setTimeout(() => {
      if (Date.now() < this.nextAuditAt) return this.armAudit();
      this.nextAuditAt = Date.now() + this.config.backup.auditIntervalMs;
      void this.audit()
        .then((s) => this.log(`fixity audit: ${s.localBlobs.checked} local blobs (${s.localBlobs.failed} failed, ${s.localBlobs.repaired} repaired), ${s.localPeriods.checked} periods, ${s.peerCopies.checked} peer copies (${s.peerCopies.failed} failed)`))
        .catch((err) => this.log(`fixity audit failed: ${(err as Error).message}`))
        .finally(() => {
          if (this.started) this.armAudit();
        });
    }, wait);
  }
}

/** RFC 6266 Content-Disposition with an ASCII fallback and the UTF-8 name (RFC 8187). */
function contentDisposition(fileName: string): string {
  const safe = fileName.replace(/[\\/\r\n"]/g, '_');
  const ascii = safe.replace(/[^\x20-\x7e]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(safe)}`;
}
