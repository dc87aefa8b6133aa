import { createHash, createHmac, randomBytes } from 'node:crypto';
import { getCenterMeta, setCenterMeta } from '../store/accounts-repository.js';
import { countVaultBlobs, listBlobsDueForCheck } from '../store/blobs-repository.js';
import { refreshCopyCount } from '../store/copy-counts-repository.js';
import type { RegistrationRow, ReplicaRow, VaultBlobRow } from '../store/database.js';
import { periodProblem } from '../registry/period-rederive.js';
import { findPeriod } from '../store/periods-repository.js';
import { countReplicas, listReplicasDueForAudit, listReplicasOf, markReplicaAudited, markReplicaPending, markReplicaUnreachable } from '../store/replicas-repository.js';
import type { Store } from '../store/store.js';
import type { Peer } from './peer-client.js';
import { frameBundle } from './period-bundle.js';
import type { PreservationLog } from './preservation-log.js';
import type { Replicator } from './replicator.js';
import type { Vault } from './vault.js';

const DAY_MS = 24 * 3600 * 1000;
/** A failed repair of a local blob is tried again after 1 minute, then 2, 4, … up to an hour. */
const REPAIR_RETRY_FIRST_MS = 60_000;
const REPAIR_RETRY_MAX_MS = 3600_000;
const PERIOD_CURSOR = 'audit-period-cursor';
const DOCUMENT_NAMES = { period: 'bundle', journal: 'journal segment', certificates: 'certificate segment', chain: 'chain state' } as const;

/**
 * Records a `missing` vault row for every original a registration with a file names that the
 * vault has no row for (a recovery that could not fetch it, say), so that audits, repairs and
 * status see it; returns their SHA-256 (hex). The row holds no data key until the blob is
 * restored from a peer's copy, which brings its own.
 */
export function recordUnheldBlobs(store: Store, masterKeyId: string, now: string): string[] {
  const unheld = store
    .prepare(
      `SELECT r.sha256, r.sm3, r.size FROM registration r
       WHERE r.has_file = 1 AND r.sm3 IS NOT NULL AND r.size IS NOT NULL AND NOT EXISTS (SELECT 1 FROM vault_blob b WHERE b.sha256 = r.sha256)
       ORDER BY r.sha256`,
    )
    .all()
    // One per content (several registrants may have registered the same file).
    .filter((r, i, all) => i === 0 || !(r as { sha256: Buffer }).sha256.equals((all[i - 1] as { sha256: Buffer }).sha256)) as { sha256: Buffer; sm3: Buffer; size: number }[];
  store.transaction(() => {
    for (const u of unheld) {
      store.run(
        store.db.insertInto('vault_blob').values({
          sha256: u.sha256,
          sm3: u.sm3,
          size: u.size,
          cipher_size: 0,
          cipher_sha256: null,
          wrapped_key: Buffer.alloc(0),
          master_key_id: masterKeyId,
          status: 'missing',
          created_at: now,
          checked_at: null,
        }),
      );
      refreshCopyCount(store, 'blob', u.sha256.toString('hex'));
    }
  });
  return unheld.map((u) => u.sha256.toString('hex'));
}

/** What one audit run did. */
export interface AuditSummary {
  startedAt: string;
  finishedAt: string;
  localBlobs: { checked: number; failed: number; repaired: number; filesWithoutRowRemoved: number };
  localPeriods: { checked: number; failed: number };
  peerCopies: { checked: number; failed: number; unreachable: number; stale: number };
}

export interface FixityAuditorOptions {
  store: Store;
  vault: Vault;
  peers: readonly Peer[];
  replicator: Replicator | undefined;
  events: PreservationLog;
  /** Time between scheduled runs; each run takes the share that covers every copy within `cycleDays`. */
  intervalMs: number;
  cycleDays: number;
  now?: () => Date;
}

/**
 * Fixity audits. Each run re-checks its share of local blobs end to end (every segment
 * authenticated, SHA-256 and SM3 of the plaintext, SHA-256 of the ciphertext), re-derives its
 * share of sealed periods' roots from their records and salts, and challenges its share of peer
 * copies with a fresh random nonce: the peer must answer HMAC-SHA-256(nonce, the bytes it holds),
 * which only a holder of exactly those bytes can compute. The share is the copies audited
 * longest ago, sized so that every copy is checked within `cycleDays` (default a year, above the
 * 10 % yearly sample the archives' rules ask for). A damaged or missing local blob is restored
 * from a peer's verified copy; a damaged or missing peer copy is sent again. Every check is a
 * PREMIS event; failures also raise alarms.
 */
export class FixityAuditor {
  private readonly now: () => Date;
  private running: Promise<AuditSummary> | undefined;
  /** Local blobs whose repair failed: how often, and when to try again (kept in memory: a restart tries at once). */
  private readonly repairRetries = new Map<string, { failures: number; nextAt: number }>();
  private retrying = false;

  constructor(private readonly options: FixityAuditorOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /** The share of `total` one scheduled run checks. */
  shareOf(total: number): number {
    if (total === 0) return 0;
    return Math.min(total, Math.max(1, Math.ceil((total * this.options.intervalMs) / (this.options.cycleDays * DAY_MS))));
  }

  /** Runs an audit: the scheduled share, or every copy with `all`. One at a time. */
  async run(options: { all?: boolean } = {}): Promise<AuditSummary> {
    while (this.running) await this.running.catch(() => {});
    this.running = this.audit(options.all ?? false);
    try {
      return await this.running;
    } finally {
      this.running = undefined;
    }
  }

  private async audit(all: boolean): Promise<AuditSummary> {
    const { store } = this.options;
    const share = (total: number) => (all ? total : this.shareOf(total));
    const summary: AuditSummary = {
      startedAt: this.now().toISOString(),
      finishedAt: '',
      localBlobs: { checked: 0, failed: 0, repaired: 0, filesWithoutRowRemoved: 0 },
      localPeriods: { checked: 0, failed: 0 },
      peerCopies: { checked: 0, failed: 0, unreachable: 0, stale: 0 },
    };
    // An original the registry names but the vault has no record of is missing: checked (and
    // repaired) first, as a blob never checked.
    recordUnheldBlobs(store, this.options.vault.masterKey.id, summary.startedAt);
    summary.localBlobs.filesWithoutRowRemoved = (await this.removeFilesWithoutRow('audit')).length;
    for (const blob of listBlobsDueForCheck(store, share(countVaultBlobs(store)))) await this.auditLocalBlob(blob, summary);
    const sealed = store.prepare("SELECT id FROM period WHERE status = 'sealed' AND root IS NOT NULL ORDER BY id").pluck().all() as number[];
    for (const id of this.rotate(sealed, share(sealed.length))) await this.auditLocalPeriod(id, summary);
    const due = listReplicasDueForAudit(store, share(countReplicas(store)));
    const byObject = new Map<string, ReplicaRow[]>();
    for (const r of due) byObject.set(`${r.kind}:${r.object}`, [...(byObject.get(`${r.kind}:${r.object}`) ?? []), r]);
    for (const replicas of byObject.values()) await this.auditPeerCopies(replicas, summary);
    summary.finishedAt = this.now().toISOString();
    if (summary.peerCopies.failed > 0 || summary.peerCopies.stale > 0) this.options.replicator?.nudge();
    return summary;
  }

  /**
   * Removes vault files no row names (a kill between a blob's rename into place and its row),
   * each recorded as a PREMIS deletion event; see {@link Vault.removeFilesWithoutRow}.
   */
  async removeFilesWithoutRow(when: 'start' | 'audit'): Promise<{ sha256: string; size: number }[]> {
    const removed = await this.options.vault.removeFilesWithoutRow();
    for (const file of removed) {
      this.options.events.event({
        type: 'deletion',
        objectKind: 'blob',
        objectId: file.sha256,
        copy: 'local',
        outcome: 'success',
        detail:
          `a vault file (${file.size} bytes) with no vault record: a crash or kill came between its move into place and its record, ` +
          `so no registration can refer to it; removed by the ${when === 'start' ? 'start-up cleanup' : 'fixity audit'}`,
      });
    }
    return removed;
  }

  private async auditLocalBlob(blob: VaultBlobRow, summary: AuditSummary): Promise<void> {
    const { vault, events } = this.options;
    const sha256 = blob.sha256.toString('hex');
    summary.localBlobs.checked++;
    const check = await vault.checkLocal(sha256);
    const subject = `blob ${sha256} @ local`;
    if (check.ok) {
      events.event({ type: 'fixity check', objectKind: 'blob', objectId: sha256, copy: 'local', outcome: 'success', detail: `all segments authenticate; SHA-256, SM3 and size match; ciphertext SHA-256 ${check.cipherSha256}` });
      this.clearAlarmsOfGoodBlob(blob);
      return;
    }
    summary.localBlobs.failed++;
    events.event({ type: 'fixity check', objectKind: 'blob', objectId: sha256, copy: 'local', outcome: 'failure', detail: check.problem ?? 'failed' });
    events.raise('audit-failed', subject, `the local copy of blob ${sha256} failed its fixity check: ${check.problem}`);
    if (await this.repairLocal(blob)) {
      summary.localBlobs.repaired++;
      events.clear('audit-failed', subject);
    } else {
      this.repairFailed(sha256);
    }
  }

  /**
   * Tries again to restore the local blobs a check found damaged or missing and whose repair
   * failed (a peer down, say), each after a back-off that doubles from a minute up to an hour,
   * until one succeeds: they are not left to wait for the audit rotation to come round again.
   * The backup service's watch calls it every minute.
   */
  async retryRepairs(): Promise<{ attempted: number; repaired: number }> {
    const result = { attempted: 0, repaired: 0 };
    if (this.retrying) return result;
    this.retrying = true;
    try {
      const { store } = this.options;
      const broken = store.all(store.db.selectFrom('vault_blob').selectAll().where('status', 'in', ['damaged', 'missing']));
      const still = new Set(broken.map((b) => b.sha256.toString('hex')));
      for (const sha256 of this.repairRetries.keys()) if (!still.has(sha256)) this.repairRetries.delete(sha256);
      for (const blob of broken) {
        const sha256 = blob.sha256.toString('hex');
        const retry = this.repairRetries.get(sha256);
        if (retry && retry.nextAt > this.now().getTime()) continue;
        result.attempted++;
        if (await this.repairLocal(blob)) result.repaired++;
        else this.repairFailed(sha256);
      }
      return result;
    } finally {
      this.retrying = false;
    }
  }

  private repairFailed(sha256: string): void {
    const failures = (this.repairRetries.get(sha256)?.failures ?? 0) + 1;
    const wait = Math.min(REPAIR_RETRY_MAX_MS, REPAIR_RETRY_FIRST_MS * 2 ** Math.min(failures - 1, 20));
    this.repairRetries.set(sha256, { failures, nextAt: this.now().getTime() + wait });
  }

  /**
   * A local blob is whole again (checked, or restored from a peer): clears its failed-audit alarm,
   * and the download alarms of the registrations of it whose digests it matches (those whose
   * registered SM3 or size differ from the blob's would fail again, so theirs stay).
   */
  clearAlarmsOfGoodBlob(blob: Pick<VaultBlobRow, 'sha256' | 'sm3' | 'size'>): void {
    const { store, events } = this.options;
    const sha256 = blob.sha256.toString('hex');
    events.clear('audit-failed', `blob ${sha256} @ local`);
    const open = store.prepare("SELECT subject FROM alarm WHERE kind = 'download-digest-mismatch' AND cleared_at IS NULL").pluck().all() as string[];
    for (const subject of open) {
      const id = /^registration (\d+)$/.exec(subject)?.[1];
      if (id === undefined) continue;
      const r = store.prepare('SELECT sha256, sm3, size, has_file FROM registration WHERE id = ?').get(Number(id)) as
        | Pick<RegistrationRow, 'sha256' | 'sm3' | 'size' | 'has_file'>
        | undefined;
      if (!r || r.has_file !== 1 || !r.sha256.equals(blob.sha256)) continue;
      if ((r.sm3 && !r.sm3.equals(blob.sm3)) || (r.size !== null && r.size !== blob.size)) continue;
      events.clear('download-digest-mismatch', subject);
    }
  }

  /**
   * Restores a local blob from a peer's copy, checked end to end; true when it was. Peers that
   * confirmed a copy are asked first, then the others: a blob restored by a recovery that could
   * not fetch it has no confirmed copy on record, though its peers hold one.
   */
  async repairLocal(blob: VaultBlobRow): Promise<boolean> {
    const { vault, events, store } = this.options;
    const sha256 = blob.sha256.toString('hex');
    const holders = new Set(listReplicasOf(store, 'blob', [sha256]).filter((r) => r.status === 'verified').map((r) => r.peer));
    const peers = [...this.options.peers.filter((p) => holders.has(p.id)), ...this.options.peers.filter((p) => !holders.has(p.id))];
    for (const peer of peers) {
      try {
        const stream = await peer.getBlob(sha256);
        const installed = await vault.installCiphertext(sha256, stream, {
          sm3: blob.sm3.toString('hex'),
          size: blob.size,
          ...(blob.cipher_sha256 && { cipherSha256: blob.cipher_sha256.toString('hex') }),
        });
        events.event({
          type: 'recovery',
          objectKind: 'blob',
          objectId: sha256,
          copy: 'local',
          agent: `peer ${peer.id}`,
          outcome: 'success',
          detail: `the local copy was replaced by peer ${peer.id}'s (ciphertext SHA-256 ${installed.cipherSha256}), checked end to end before use`,
        });
        this.repairRetries.delete(sha256);
        this.clearAlarmsOfGoodBlob(blob);
        this.options.replicator?.nudge(); // peers' copies are compared with the new file
        return true;
      } catch (err) {
        events.event({ type: 'recovery', objectKind: 'blob', objectId: sha256, copy: 'local', agent: `peer ${peer.id}`, outcome: 'failure', detail: (err as Error).message });
      }
    }
    return false;
  }

  private async auditLocalPeriod(periodId: number, summary: AuditSummary): Promise<void> {
    const { store, events } = this.options;
    summary.localPeriods.checked++;
    const problem = await periodProblem(store, periodId);
    const leafCount = findPeriod(store, periodId)?.leaf_count ?? 0;
    if (problem) {
      summary.localPeriods.failed++;
      events.event({ type: 'fixity check', objectKind: 'period', objectId: String(periodId), copy: 'local', outcome: 'failure', detail: problem });
      events.raise('audit-failed', `period ${periodId} @ local`, `the registry of period ${periodId} failed its fixity check: ${problem}`);
    } else {
      events.event({ type: 'fixity check', objectKind: 'period', objectId: String(periodId), copy: 'local', outcome: 'success', detail: `${leafCount} records re-hashed to their leaves and the period's root` });
    }
  }

  /** Challenges every due peer copy of one object, computing the expected answers in one read. */
  private async auditPeerCopies(replicas: ReplicaRow[], summary: AuditSummary): Promise<void> {
    const { kind, object } = replicas[0]!;
    const nonces = replicas.map(() => randomBytes(32));
    let expected: string[];
    if (kind === 'blob') {
      const blob = this.options.vault.rowOf(object);
      if (!blob || blob.status !== 'ok' || !blob.cipher_sha256) return; // audit the local copy (and repair it) first
      const cipherHash = createHash('sha256');
      const macs = nonces.map((n) => createHmac('sha256', n));
      try {
        for await (const chunk of this.options.vault.readCiphertext(object)) {
          cipherHash.update(chunk as Buffer);
          for (const m of macs) m.update(chunk as Buffer);
        }
      } catch {
        return;
      }
      if (!cipherHash.digest().equals(blob.cipher_sha256)) {
        await this.auditLocalBlob(blob, summary); // the local file changed: check and repair it first
        return;
      }
      expected = macs.map((m) => m.digest('hex'));
    } else {
      // A signed document: the peer holds its framing, signature and bytes, and a recovery reads
      // all three, so the challenge covers all three (the signature is the one sent, kept with the copy).
      const current = await this.options.replicator?.documentBytes(replicas[0]!).catch(() => undefined);
      if (!current) return;
      const fresh: ReplicaRow[] = [];
      for (const r of replicas) {
        if (r.confirmed_hash === current.sha256 && r.signature) {
          fresh.push(r);
          continue;
        }
        // Not damage: the period gained a timestamp or anchor since, the chain a block, or the
        // copy was confirmed before signatures were kept; the new document is sent.
        summary.peerCopies.stale++;
        markReplicaPending(this.options.store, r, 'pending', this.now().toISOString());
      }
      await Promise.all(
        fresh.map(async (replica) => {
          const peer = this.options.peers.find((p) => p.id === replica.peer);
          if (!peer) return;
          const nonce = randomBytes(32);
          const framed = frameBundle({ signature: replica.signature!, bytes: current.bytes });
          await this.challengePeer(peer, replica, nonce, createHmac('sha256', nonce).update(framed).digest('hex'), summary);
        }),
      );
      return;
    }
    await Promise.all(
      replicas.map(async (replica, i) => {
        const peer = this.options.peers.find((p) => p.id === replica.peer);
        if (!peer) return;
        await this.challengePeer(peer, replica, nonces[i]!, expected[i]!, summary);
      }),
    );
  }

  private async challengePeer(peer: Peer, replica: ReplicaRow, nonce: Buffer, expected: string, summary: AuditSummary): Promise<void> {
    const { store, events } = this.options;
    const { kind, object } = replica;
    const objectKind = kind;
    const at = this.now().toISOString();
    let answer: string | null;
    try {
      answer = kind === 'blob' ? await peer.challengeBlob(object, nonce) : await peer.challengeDocument(kind, object, nonce);
    } catch (err) {
      summary.peerCopies.unreachable++;
      // Not an audit: `audited_at` stays, so the copy stays due, and status stops counting it as
      // verified until the peer answers a challenge again (backup-status.ts).
      markReplicaUnreachable(store, replica);
      const problem = (err as Error).message;
      events.event({ type: 'fixity check', objectKind, objectId: object, copy: peer.id, outcome: 'warning', detail: `peer unreachable, copy not checked: ${problem}` });
      events.raise('peer-unreachable', peer.id, `peer ${peer.id} does not answer fixity challenges, so its copies cannot be checked and are not counted as verified: ${problem}`);
      return;
    }
    events.clear('peer-unreachable', peer.id);
    summary.peerCopies.checked++;
    const subject = `${kind} ${object} @ ${peer.id}`;
    if (answer === expected) {
      markReplicaAudited(store, replica, { at, outcome: 'ok' });
      events.event({ type: 'fixity check', objectKind, objectId: object, copy: peer.id, outcome: 'success', detail: `the peer answered the challenge (HMAC-SHA-256 over the ${kind === 'blob' ? 'encrypted blob' : `signed ${DOCUMENT_NAMES[kind]}, signature included,`} under a fresh nonce)` });
      return;
    }
    summary.peerCopies.failed++;
    const status = answer === null ? 'missing' : 'damaged';
    markReplicaAudited(store, replica, { at, outcome: status });
    markReplicaPending(store, replica, status, at);
    const detail = answer === null ? 'the peer no longer holds the copy' : 'the peer\'s answer does not match: its copy differs from ours';
    events.event({ type: 'fixity check', objectKind, objectId: object, copy: peer.id, outcome: 'failure', detail: `${detail}; it is sent again` });
    events.raise('audit-failed', subject, `the copy of ${kind} ${object} at peer ${peer.id} failed its fixity check: ${detail}`);
  }

  /** The next `count` of `ids` after the stored cursor, wrapping; advances the cursor. */
  private rotate(ids: number[], count: number): number[] {
    if (ids.length === 0 || count === 0) return [];
    const cursor = Number(getCenterMeta(this.options.store, PERIOD_CURSOR) ?? 0);
    let start = ids.findIndex((id) => id > cursor);
    if (start < 0) start = 0;
    const picked = Array.from({ length: Math.min(count, ids.length) }, (_, i) => ids[(start + i) % ids.length]!);
    setCenterMeta(this.options.store, PERIOD_CURSOR, String(picked[picked.length - 1]));
    return picked;
  }
}
