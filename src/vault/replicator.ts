import { hash } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { signDetached, type SigningIdentity } from '../pki/cms-signer.js';
import { getCenterMeta, setCenterMeta } from '../store/accounts-repository.js';
import type { ReplicaRow } from '../store/database.js';
import {
  deleteJournalReplicas,
  deleteReplica,
  ensureBlobReplicasAfter,
  ensureReplica,
  listDueReplicas,
  listReplicasOf,
  markReplicaFailed,
  markReplicaPending,
  markReplicaVerified,
} from '../store/replicas-repository.js';
import type { Store } from '../store/store.js';
import type { Peer } from './peer-client.js';
import { buildCertificateSegmentBytes, certificateSegmentKey, signCertificateSegment } from './certificate-segment.js';
import { bestBlockOf, buildChainStateDocument, LOCAL_CHAIN_NAME, recordCurrentChainState } from './chain-state-copy.js';
import { bundleRevision, buildJournalBytes, frameBundle, journalKey, signJournal, signPeriodBundle, type SignedBundle } from './period-bundle.js';
import type { PreservationLog } from './preservation-log.js';
import type { Vault } from './vault.js';
import { VaultError } from './vault-error.js';

const BATCH = 1000;
const FAILURES_BEFORE_ALARM = 3;
/** How often sealed periods' bundles are compared with what peers hold: every sixth pass (30 s at the defaults). */
const REVISION_CHECK_PASSES = 6;
const JOURNAL_WATERMARK = 'journal-watermark';
const JOURNAL_SEGMENT_MAX = 10_000;
const CERTIFICATE_WATERMARK = 'certificate-watermark';
const CERTIFICATE_SEGMENT_MAX = 1000;

export interface ReplicatorOptions {
  store: Store;
  vault: Vault;
  peers: readonly Peer[];
  centerId: string;
  signer: SigningIdentity;
  events: PreservationLog;
  log: (line: string) => void;
  pollMs: number;
  maxBackoffMs: number;
  /** The embedded chain's directory, whose state is copied to peers; absent for other chains. */
  chainDir?: string;
  now?: () => Date;
}

/**
 * Pushes every blob (its ciphertext: the peer cannot read it) and every sealed period's signed
 * bundle to every peer. The `replica` table is the durable outbox: a row per object and peer,
 * pending until the peer confirms holding exactly those bytes (the SHA-256 it computed over
 * them equals ours), retried with exponential back-off while the peer is down or failing. A
 * blob transfer that was cut resumes at the offset the peer reports. Bundles are sent again
 * when their period's timestamps or anchors change. Registrations of the period still open go
 * out as signed journal segments, so a site lost before its next seal loses none of those its
 * peers had received; the sealed bundle then replaces them.
 */
export class Replicator {
  private readonly options: ReplicatorOptions;
  private readonly now: () => Date;
  private blobWatermark = 0;
  private periodWatermark = 0;
  private lastRevisionCheck = 0;
  private readonly peerDownUntil = new Map<string, { until: number; failures: number }>();
  private readonly bundleCache = new Map<number, SignedBundle>();
  /** The embedded chain's state document as last built, and its SHA-256. */
  private chainState: { bytes: Buffer; sha256: string } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;

  constructor(options: ReplicatorOptions) {
    this.options = options;
    this.now = options.now ?? (() => new Date());
  }

  start(): void {
    this.stopped = false;
    this.nudge();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.running) await this.running;
    for (const peer of this.options.peers) peer.close();
  }

  /** Runs a pass soon (new blob, new seal), or right after the one running. */
  nudge(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.pass(), 0);
  }

  /** One pass now: find new objects, then send what is due to each peer. Resolves when done. */
  async runOnce(): Promise<void> {
    while (this.running) await this.running;
    await this.pass(false);
  }

  private async pass(reschedule = true): Promise<void> {
    if (this.running) {
      this.again = true;
      return;
    }
    this.timer = undefined;
    let done!: () => void;
    this.running = new Promise((resolve) => (done = resolve));
    try {
      await this.reconcile();
      await Promise.all(this.options.peers.map((peer) => this.sendDue(peer)));
    } catch (err) {
      this.options.log(`replication pass failed: ${(err as Error).message}`);
    } finally {
      this.running = undefined;
      done();
    }
    if (reschedule && !this.stopped) {
      const delay = this.again ? 0 : this.options.pollMs;
      this.again = false;
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.pass(), delay);
    }
  }

  /** Adds outbox rows for blobs and sealed periods new since the last pass; re-queues changed bundles. */
  private async reconcile(): Promise<void> {
    const { store, peers } = this.options;
    if (peers.length === 0) return;
    const at = this.now().toISOString();
    const peerIds = peers.map((p) => p.id);
    for (;;) {
      const last = store.transaction(() => ensureBlobReplicasAfter(store, peerIds, this.blobWatermark, BATCH, at));
      if (last === this.blobWatermark) break;
      this.blobWatermark = last;
      await nextTurn(); // a large vault's first pass must not hold up requests
    }
    const periods = store.prepare("SELECT id FROM period WHERE status = 'sealed' AND id > ? ORDER BY id").pluck().all(this.periodWatermark) as number[];
    if (periods.length > 0) {
      store.transaction(() => {
        for (const id of periods) for (const peer of peers) ensureReplica(store, { kind: 'period', object: String(id), peer: peer.id, now: at });
      });
      this.periodWatermark = periods[periods.length - 1]!;
    }
    this.journalNewRegistrations(at);
    this.segmentNewCertificates(at);
    if (Date.now() - this.lastRevisionCheck >= REVISION_CHECK_PASSES * this.options.pollMs) {
      this.lastRevisionCheck = Date.now();
      this.requeueChangedBundles(at);
      await this.requeueChangedChainState(at);
    }
  }

  /** Cuts certificate segments of the certificates issued since the last pass. */
  private segmentNewCertificates(at: string): void {
    const { store, peers } = this.options;
    for (;;) {
      const watermark = Number(getCenterMeta(store, CERTIFICATE_WATERMARK) ?? 0);
      const seqs = store.prepare('SELECT rowid FROM certificate WHERE rowid > ? ORDER BY rowid LIMIT ?').pluck().all(watermark, CERTIFICATE_SEGMENT_MAX) as number[];
      if (seqs.length === 0) return;
      const key = certificateSegmentKey(seqs[0]!, seqs[seqs.length - 1]!);
      store.transaction(() => {
        for (const peer of peers) ensureReplica(store, { kind: 'certificates', object: key, peer: peer.id, now: at });
        setCenterMeta(store, CERTIFICATE_WATERMARK, String(seqs[seqs.length - 1]));
      });
      if (seqs.length < CERTIFICATE_SEGMENT_MAX) return;
    }
  }

  /**
   * Builds the embedded chain's state document again and queues it for every peer whose copy is
   * another (a new anchor's block, or none yet). The state is copied only once it holds the
   * block of every confirmed anchor (see chain-state-copy.ts).
   */
  async requeueChangedChainState(at = this.now().toISOString()): Promise<void> {
    const { store, peers, chainDir, centerId, vault } = this.options;
    if (!chainDir) return;
    const bytes = await buildChainStateDocument(store, chainDir, { centerId, masterKey: vault.masterKey.key });
    if (!bytes) return;
    this.chainState = { bytes, sha256: hash('sha256', bytes, 'hex') };
    recordCurrentChainState(store, { sha256: this.chainState.sha256, bestBlock: bestBlockOf(bytes) ?? -1, at });
    let requeued = false;
    for (const peer of peers) {
      if (ensureReplica(store, { kind: 'chain', object: LOCAL_CHAIN_NAME, peer: peer.id, now: at })) requeued = true;
    }
    for (const r of listReplicasOf(store, 'chain', [LOCAL_CHAIN_NAME])) {
      if (r.status === 'verified' && r.confirmed_hash !== this.chainState.sha256) {
        markReplicaPending(store, r, 'pending', at);
        requeued = true;
      }
    }
    if (requeued) this.nudge();
  }

  /**
   * The bytes (without signature) of the signed document a verified copy should hold, as built
   * now: undefined when the object is gone (a journal whose period is sealed); bytes whose
   * SHA-256 differs from the confirmed one mean the copy is stale (a newer bundle or chain state).
   */
  async documentBytes(replica: ReplicaRow): Promise<{ bytes: Buffer; sha256: string } | undefined> {
    const { store, centerId, vault } = this.options;
    switch (replica.kind) {
      case 'period': {
        const signed = this.bundleOf(Number(replica.object));
        return { bytes: signed.bytes, sha256: signed.sha256 };
      }
      case 'journal': {
        const bytes = buildJournalBytes(store, replica.object, { centerId, masterKey: vault.masterKey.key });
        return bytes && { bytes, sha256: hash('sha256', bytes, 'hex') };
      }
      case 'certificates': {
        const bytes = buildCertificateSegmentBytes(store, replica.object, centerId);
        return { bytes, sha256: hash('sha256', bytes, 'hex') };
      }
      case 'chain':
        if (!this.chainState) await this.requeueChangedChainState();
        return this.chainState;
      default:
        return undefined;
    }
  }

  /** Cuts journal segments of the registrations (of unsealed periods) new since the last pass. */
  private journalNewRegistrations(at: string): void {
    const { store, peers } = this.options;
    for (;;) {
      const watermark = Number(getCenterMeta(store, JOURNAL_WATERMARK) ?? 0);
      const rows = store
        .prepare(`SELECT r.id, r.period_id AS "periodId", p.status FROM registration r JOIN period p ON p.id = r.period_id WHERE r.id > ? ORDER BY r.id LIMIT ?`)
        .all(watermark, JOURNAL_SEGMENT_MAX) as { id: number; periodId: number; status: string }[];
      if (rows.length === 0) return;
      const segments: { periodId: number; first: number; last: number }[] = [];
      for (const row of rows) {
        if (row.status === 'sealed') continue; // its bundle carries it
        const current = segments[segments.length - 1];
        if (current && current.periodId === row.periodId) current.last = row.id;
        else segments.push({ periodId: row.periodId, first: row.id, last: row.id });
      }
      store.transaction(() => {
        for (const s of segments) {
          for (const peer of peers) ensureReplica(store, { kind: 'journal', object: journalKey(s.periodId, s.first, s.last), peer: peer.id, now: at });
        }
        setCenterMeta(store, JOURNAL_WATERMARK, String(rows[rows.length - 1]!.id));
      });
      if (rows.length < JOURNAL_SEGMENT_MAX) return;
    }
  }

  /** Sends bundles again whose period gained a timestamp or an anchor (or whose anchor moved) since they were sent. */
  requeueChangedBundles(at = this.now().toISOString()): number {
    const { store } = this.options;
    // Through the key's `kind` (the periods' few rows), the status checked here: a filter on
    // `status` in the query let SQLite walk every verified copy, a million blobs' included.
    const verified = store.all(store.db.selectFrom('replica').selectAll().where('kind', '=', 'period')).filter((r) => r.status === 'verified');
    const revisions = new Map<string, string | undefined>();
    let requeued = 0;
    for (const r of verified) {
      if (!revisions.has(r.object)) revisions.set(r.object, bundleRevision(store, Number(r.object)));
      if (revisions.get(r.object) !== r.revision) {
        markReplicaPending(store, r, 'pending', at);
        requeued++;
      }
    }
    if (requeued > 0) this.nudge();
    return requeued;
  }

  private async sendDue(peer: Peer): Promise<void> {
    const down = this.peerDownUntil.get(peer.id);
    if (down && down.until > Date.now()) return;
    const { store } = this.options;
    for (;;) {
      const due = listDueReplicas(store, peer.id, this.now().toISOString(), 20);
      if (due.length === 0 || this.stopped) return;
      for (const row of due) {
        if (this.stopped) return;
        try {
          if (row.kind === 'blob') await this.sendBlob(peer, row);
          else if (row.kind === 'period') await this.sendPeriod(peer, row);
          else if (row.kind === 'journal') await this.sendJournal(peer, row);
          else await this.sendDocument(peer, row);
          this.peerDownUntil.delete(peer.id);
          this.options.events.clear('replication-failing', peer.id);
        } catch (err) {
          const unreachable = err instanceof VaultError && err.code === 'PEER_FAILED' && !('status' in err);
          this.failed(peer, row, err as Error);
          if (unreachable) {
            // The peer is down: wait before trying any of its copies again.
            const failures = (this.peerDownUntil.get(peer.id)?.failures ?? 0) + 1;
            this.peerDownUntil.set(peer.id, { until: Date.now() + this.backoff(failures), failures });
            return;
          }
        }
      }
    }
  }

  private async sendBlob(peer: Peer, replica: ReplicaRow): Promise<void> {
    const { store, vault, events } = this.options;
    const sha256 = replica.object;
    const blob = vault.rowOf(sha256);
    if (!blob) {
      deleteReplica(store, { kind: 'blob', object: sha256, peer: peer.id });
      return;
    }
    if (blob.status !== 'ok') throw new VaultError('BLOB_CORRUPT', 'the local copy is damaged or missing; it is sent once repaired');
    const cipherSha256 = await vault.cipherSha256(sha256);
    const state = await peer.blobState(sha256);
    // A copy an audit found damaged or missing is sent whole: the peer's record of it is not to be trusted.
    const repair = replica.status === 'damaged' || replica.status === 'missing';
    let sent = 0;
    let result = state;
    if (repair || !(state.complete && state.sha256 === cipherSha256)) {
      const replace = repair || state.complete || state.received > blob.cipher_size;
      let offset = replace ? 0 : state.received;
      try {
        result = await peer.putBlob(sha256, vault.readCiphertext(sha256, offset), { offset, size: blob.cipher_size, cipherSha256, replace });
      } catch (err) {
        const received = (err as { details?: { error?: { received?: number } } }).details?.error?.received;
        if (typeof received !== 'number') throw err;
        offset = received; // the peer holds another amount than it said a moment ago: continue from there
        result = await peer.putBlob(sha256, vault.readCiphertext(sha256, offset), { offset, size: blob.cipher_size, cipherSha256 });
      }
      sent = blob.cipher_size - offset;
    }
    if (!result.complete || result.sha256 !== cipherSha256) {
      throw new VaultError('PEER_FAILED', `peer ${peer.id} holds ${result.received} of ${blob.cipher_size} bytes of ${sha256}`);
    }
    markReplicaVerified(store, replica, { revision: cipherSha256, confirmedHash: cipherSha256, at: this.now().toISOString() });
    if (replica.status === 'damaged' || replica.status === 'missing') events.clear('audit-failed', `blob ${sha256} @ ${peer.id}`);
    events.event({
      type: 'replication',
      objectKind: 'blob',
      objectId: sha256,
      copy: peer.id,
      outcome: 'success',
      detail:
        `peer ${peer.id} confirmed holding the encrypted blob (SHA-256 ${cipherSha256}, ${blob.cipher_size} bytes; ` +
        `${sent === 0 ? 'already held' : sent < blob.cipher_size ? `resumed, ${sent} bytes sent` : `${sent} bytes sent`})` +
        (replica.status === 'damaged' || replica.status === 'missing' ? `; repairs its ${replica.status} copy` : ''),
    });
  }

  private async sendPeriod(peer: Peer, replica: ReplicaRow): Promise<void> {
    const { store, events } = this.options;
    const id = Number(replica.object);
    const signed = this.bundleOf(id);
    const held = await peer.putBundle(id, frameBundle(signed));
    if (held.sha256 !== signed.sha256) throw new VaultError('PEER_FAILED', `peer ${peer.id} holds bundle ${held.sha256}, we sent ${signed.sha256}`);
    markReplicaVerified(store, replica, { revision: signed.revision, confirmedHash: signed.sha256, at: this.now().toISOString(), signature: signed.signature });
    deleteJournalReplicas(store, peer.id, id); // the peer dropped its journal segments of this period too
    if (replica.status === 'damaged' || replica.status === 'missing') events.clear('audit-failed', `period ${id} @ ${peer.id}`);
    events.event({
      type: 'replication',
      objectKind: 'period',
      objectId: String(id),
      copy: peer.id,
      outcome: 'success',
      detail:
        `peer ${peer.id} confirmed holding the signed bundle of period ${id} (SHA-256 ${signed.sha256}, ${signed.bytes.length} bytes)` +
        (replica.status === 'damaged' || replica.status === 'missing' ? `; repairs its ${replica.status} copy` : ''),
    });
  }

  private async sendJournal(peer: Peer, replica: ReplicaRow): Promise<void> {
    const { store, centerId, vault, signer } = this.options;
    const signed = signJournal(store, replica.object, { centerId, masterKey: vault.masterKey.key, signer });
    if (!signed) {
      // Sealed meanwhile: the period's bundle carries these registrations.
      deleteReplica(store, { kind: 'journal', object: replica.object, peer: peer.id });
      return;
    }
    const held = await peer.putJournal(replica.object, frameBundle(signed));
    if (held.sha256 !== signed.sha256) throw new VaultError('PEER_FAILED', `peer ${peer.id} holds journal ${held.sha256}, we sent ${signed.sha256}`);
    markReplicaVerified(store, replica, { revision: null, confirmedHash: signed.sha256, at: this.now().toISOString(), signature: signed.signature });
    if (replica.status === 'damaged' || replica.status === 'missing') this.options.events.clear('audit-failed', `journal ${replica.object} @ ${peer.id}`);
  }

  /** Sends a certificate segment, or the embedded chain's state, signed now. */
  private async sendDocument(peer: Peer, replica: ReplicaRow): Promise<void> {
    const { store, centerId, signer, events } = this.options;
    let signed: { bytes: Buffer; signature: Buffer; sha256: string };
    if (replica.kind === 'certificates') {
      signed = signCertificateSegment(store, replica.object, { centerId, signer });
    } else {
      const state = await this.documentBytes(replica);
      if (!state) throw new VaultError('PEER_FAILED', 'the chain state holds no copy yet (not every anchored block is in its state file); trying again');
      signed = { ...state, signature: Buffer.from(signDetached(state.bytes, signer)) };
    }
    const kind = replica.kind as 'certificates' | 'chain';
    const held = await peer.putDocument(kind, replica.object, frameBundle(signed));
    if (held.sha256 !== signed.sha256) throw new VaultError('PEER_FAILED', `peer ${peer.id} holds ${kind} ${replica.object} as ${held.sha256}, we sent ${signed.sha256}`);
    // A chain state's revision is the newest block it holds: what the backup status compares.
    const revision = kind === 'chain' ? String(bestBlockOf(signed.bytes) ?? '') || signed.sha256 : signed.sha256;
    markReplicaVerified(store, replica, { revision, confirmedHash: signed.sha256, at: this.now().toISOString(), signature: signed.signature });
    if (replica.status === 'damaged' || replica.status === 'missing') events.clear('audit-failed', `${kind} ${replica.object} @ ${peer.id}`);
    events.event({
      type: 'replication',
      objectKind: kind === 'chain' ? 'chain' : 'certificates',
      objectId: replica.object,
      copy: peer.id,
      outcome: 'success',
      detail:
        `peer ${peer.id} confirmed holding the signed ${kind === 'chain' ? 'state of the embedded chain' : 'certificate segment'} (SHA-256 ${signed.sha256}, ${signed.bytes.length} bytes)` +
        (replica.status === 'damaged' || replica.status === 'missing' ? `; repairs its ${replica.status} copy` : ''),
    });
  }

  /** The signed bundle of a period, built once per revision (several peers get the same bytes). */
  bundleOf(periodId: number): SignedBundle {
    const { store, centerId, vault, signer } = this.options;
    const revision = bundleRevision(store, periodId);
    const cached = this.bundleCache.get(periodId);
    if (cached && cached.revision === revision) return cached;
    const signed = signPeriodBundle(store, periodId, { centerId, masterKey: vault.masterKey.key, signer });
    this.bundleCache.set(periodId, signed);
    if (this.bundleCache.size > 8) this.bundleCache.delete(this.bundleCache.keys().next().value!);
    return signed;
  }

  private failed(peer: Peer, replica: ReplicaRow, err: Error): void {
    const attempts = replica.attempts + 1;
    markReplicaFailed(this.options.store, replica, {
      error: err.message,
      nextAttemptAt: new Date(this.now().getTime() + this.backoff(attempts)).toISOString(),
    });
    if (attempts >= FAILURES_BEFORE_ALARM) {
      this.options.events.raise('replication-failing', peer.id, `copies to peer ${peer.id} keep failing (${attempts} attempts for ${replica.kind} ${replica.object}): ${err.message}`);
    }
  }

  /** Exponential back-off from 1 s up to the configured maximum, with ±20 % jitter. */
  private backoff(attempts: number): number {
    const base = Math.min(this.options.maxBackoffMs, 1000 * 2 ** Math.min(attempts - 1, 20));
    return Math.max(10, Math.round(base * (0.8 + Math.random() * 0.4)));
  }
}
