import type { ReplicaKind, ReplicaRow, VaultBlobRow } from '../store/database.js';
import { listReplicasOf } from '../store/replicas-repository.js';
import { sqlHex } from '../store/dialect.js';
import type { Store } from '../store/store.js';
import type { PeerConfig } from './peer-config.js';

/** One copy of an object, as `GET /v1/backup/status` shows it. */
export interface CopyView {
  /** `local` or the peer's id. */
  where: string;
  /** Local: ok | damaged | missing. At a peer: pending | verified | damaged | missing. */
  status: string;
  /**
   * Counted as a verified copy now: here, the local file is ok; at a peer, the peer confirmed the
   * exact bytes and has not since failed to answer a fixity challenge (`auditOutcome`
   * `unreachable`: the copy may be gone with its peer, so it is not counted until it answers).
   */
  verified: boolean;
  /** At a peer: when the copy was last shown to be there (confirmed on receipt, or a challenge answered). */
  lastVerifiedAt?: string | null;
  confirmedAt?: string | null;
  checkedAt?: string | null;
  auditedAt?: string | null;
  auditOutcome?: string | null;
  lastError?: string | null;
}

export interface ObjectCopies {
  kind: ReplicaKind;
  /** The blob's SHA-256, or the period id. */
  id: string;
  size?: number;
  copies: CopyView[];
  verifiedCopies: number;
  belowMinimum: boolean;
}

export interface BackupStatus {
  minimumCopies: number;
  /** Per peer: `verified` counts only copies not left unchecked by an unanswered challenge; those are `unreachable`. */
  peers: { id: string; url: string; verified: number; unreachable: number; pending: number; damagedOrMissing: number; lastError: string | null }[];
  blobs: { total: number; belowMinimum: number };
  periods: { total: number; belowMinimum: number };
  /** Registrations of periods not yet sealed, and how many of them each peer holds in journal segments. */
  unsealed: { registrations: number; atPeers: { peer: string; registrations: number }[] };
  items: ObjectCopies[];
}

/**
 * A peer's copy that counts toward the minimum: confirmed, and not left unchecked since by a
 * challenge its peer did not answer (the copy may be gone with its peer). `r` is the replica row.
 */
const COUNTS_AS_VERIFIED = "r.status = 'verified' AND coalesce(r.audit_outcome, '') != 'unreachable'";

/** How many blobs and sealed periods have fewer than `minCopies` verified copies (the local one counts). */
export function countBelowMinimum(store: Store, minCopies: number): { blobs: number; periods: number; blobTotal: number; periodTotal: number } {
  const blobs = store
    .prepare(
      `SELECT count(*) AS total, coalesce(sum(CASE WHEN (CASE WHEN b.status = 'ok' THEN 1 ELSE 0 END) +
         (SELECT count(*) FROM replica r WHERE r.kind = 'blob' AND r.object = ${sqlHex(store.engine, 'b.sha256')} AND ${COUNTS_AS_VERIFIED}) < ? THEN 1 ELSE 0 END), 0) AS below
       FROM vault_blob b`,
    )
    .get(minCopies) as { total: number; below: number };
  const periods = store
    .prepare(
      `SELECT count(*) AS total, coalesce(sum(CASE WHEN 1 +
         (SELECT count(*) FROM replica r WHERE r.kind = 'period' AND r.object = CAST(p.id AS TEXT) AND ${COUNTS_AS_VERIFIED}) < ? THEN 1 ELSE 0 END), 0) AS below
       FROM period p WHERE p.status = 'sealed'`,
    )
    .get(minCopies) as { total: number; below: number };
  return { blobs: blobs.below, periods: periods.below, blobTotal: blobs.total, periodTotal: periods.total };
}

/**
 * Per blob and sealed period: where verified copies are, how many, and whether that is below
 * the minimum. Newest first, `limit` per kind; only those below the minimum when asked.
 */
export function backupStatus(
  store: Store,
  options: { minCopies: number; peers: readonly PeerConfig[]; limit: number; kind?: ReplicaKind; belowMinimumOnly?: boolean },
): BackupStatus {
  const counts = countBelowMinimum(store, options.minCopies);
  const items: ObjectCopies[] = [];
  const toView = (r: ReplicaRow): CopyView => ({
    where: r.peer,
    status: r.status,
    verified: r.status === 'verified' && r.audit_outcome !== 'unreachable',
    lastVerifiedAt: lastVerifiedAt(r),
    confirmedAt: r.confirmed_at,
    auditedAt: r.audited_at,
    auditOutcome: r.audit_outcome,
    lastError: r.last_error,
  });
  const finish = (item: Omit<ObjectCopies, 'verifiedCopies' | 'belowMinimum'>) => {
    const verifiedCopies = item.copies.filter((c) => c.verified).length;
    const belowMinimum = verifiedCopies < options.minCopies;
    if (!options.belowMinimumOnly || belowMinimum) items.push({ ...item, verifiedCopies, belowMinimum });
  };
  if (options.kind !== 'period') {
    const blobs = options.belowMinimumOnly
      ? (store
          .prepare(
            `SELECT * FROM vault_blob b WHERE (CASE WHEN b.status = 'ok' THEN 1 ELSE 0 END) +
               (SELECT count(*) FROM replica r WHERE r.kind = 'blob' AND r.object = ${sqlHex(store.engine, 'b.sha256')} AND ${COUNTS_AS_VERIFIED}) < ?
             ORDER BY b.created_at DESC LIMIT ?`,
          )
          .all(options.minCopies, options.limit) as VaultBlobRow[])
      : // Bounded from the top (every ISO time sorts below '9999'): the index's seek, not a scan of it.
        store.all(store.db.selectFrom('vault_blob').selectAll().where('created_at', '<=', '9999').orderBy('created_at', 'desc').limit(options.limit));
    const replicas = groupBy(listReplicasOf(store, 'blob', blobs.map((b) => b.sha256.toString('hex'))));
    for (const b of blobs) {
      const id = b.sha256.toString('hex');
      finish({
        kind: 'blob',
        id,
        size: b.size,
        copies: [{ where: 'local', status: b.status, verified: b.status === 'ok', checkedAt: b.checked_at }, ...(replicas.get(id) ?? []).map(toView)],
      });
    }
  }
  if (options.kind !== 'blob') {
    const periods = store.prepare("SELECT id FROM period WHERE id < ? AND status = 'sealed' ORDER BY id DESC LIMIT ?").pluck().all(Number.MAX_SAFE_INTEGER, options.limit) as number[];
    const replicas = groupBy(listReplicasOf(store, 'period', periods.map(String)));
    for (const id of periods) {
      finish({ kind: 'period', id: String(id), copies: [{ where: 'local', status: 'ok', verified: true }, ...(replicas.get(String(id)) ?? []).map(toView)] });
    }
  }
  const peers = options.peers.map((p) => {
    const rows = store.prepare('SELECT status, count(*) AS n FROM replica WHERE peer = ? GROUP BY status').all(p.id) as { status: string; n: number }[];
    const n = (status: string) => rows.find((r) => r.status === status)?.n ?? 0;
    const unreachable = store
      .prepare("SELECT count(*) FROM replica WHERE peer = ? AND status = 'verified' AND kind != 'journal' AND audit_outcome = 'unreachable'")
      .pluck()
      .get(p.id) as number;
    const lastError = store
      .prepare("SELECT last_error FROM replica WHERE peer = ? AND status != 'verified' AND last_error IS NOT NULL ORDER BY next_attempt_at DESC LIMIT 1")
      .pluck()
      .get(p.id) as string | undefined;
    return { id: p.id, url: p.url, verified: n('verified') - unreachable, unreachable, pending: n('pending'), damagedOrMissing: n('damaged') + n('missing'), lastError: lastError ?? null };
  });
  // From the periods' own counts and the segments' id ranges: counting the rows of an open period
  // of a million registrations held the event loop for tens of milliseconds on every status call.
  // A period's registrations are one range of ids (given in order, appended while it is open), so
  // a segment `P:first-last` holds last - first + 1 of them; overlapping segments count once.
  const unsealed = store.prepare("SELECT id, leaf_count FROM period WHERE status IN ('open', 'sealing')").all() as { id: number; leaf_count: number }[];
  const unsealedCount = unsealed.reduce((sum, p) => sum + p.leaf_count, 0);
  const unsealedIds = new Set(unsealed.map((p) => p.id));
  const atPeers = options.peers.map((p) => {
    const keys = store.prepare("SELECT object FROM replica WHERE kind = 'journal' AND peer = ? AND status = 'verified'").pluck().all(p.id) as string[];
    return { peer: p.id, registrations: countInSegments(keys, unsealedIds) };
  });
  return {
    minimumCopies: options.minCopies,
    peers,
    unsealed: { registrations: unsealedCount, atPeers },
    blobs: { total: counts.blobTotal, belowMinimum: counts.blobs },
    periods: { total: counts.periodTotal, belowMinimum: counts.periods },
    items,
  };
}

/**
 * The later of the peer's confirmation on receipt and its last answered challenge: only an answer
 * sets `audited_at`, and a wrong one takes the copy out of `verified` until it is sent again.
 */
function lastVerifiedAt(r: ReplicaRow): string | null {
  if (r.status !== 'verified' || !r.audited_at) return r.confirmed_at;
  return !r.confirmed_at || r.audited_at > r.confirmed_at ? r.audited_at : r.confirmed_at;
}

/** Registrations in journal segments `P:first-last` of the periods `periods`, each counted once. */
function countInSegments(keys: readonly string[], periods: ReadonlySet<number>): number {
  const byPeriod = new Map<number, [number, number][]>();
  for (const key of keys) {
    const m = /^(\d+):(\d+)-(\d+)$/.exec(key);
    if (!m || !periods.has(Number(m[1]))) continue;
    byPeriod.set(Number(m[1]), [...(byPeriod.get(Number(m[1])) ?? []), [Number(m[2]), Number(m[3])]]);
  }
  let count = 0;
  for (const ranges of byPeriod.values()) {
    ranges.sort((a, b) => a[0] - b[0]);
    let end = -1;
    for (const [first, last] of ranges) {
      if (last > end) count += last - Math.max(first, end + 1) + 1;
      end = Math.max(end, last);
    }
  }
  return count;
}

function groupBy(rows: ReplicaRow[]): Map<string, ReplicaRow[]> {
  const map = new Map<string, ReplicaRow[]>();
  for (const r of rows) map.set(r.object, [...(map.get(r.object) ?? []), r]);
  return map;
}
