import type { ReplicaKind, ReplicaRow, VaultBlobRow } from '../store/database.js';
import { countCopies, listBelowMinimum, type CopyCountCursor, type CountedKind } from '../store/copy-counts-repository.js';
import { lastReplicaError, listReplicasOf, listVerifiedJournalKeys, replicaTotalsOf } from '../store/replicas-repository.js';
import type { Store } from '../store/store.js';
import { currentChainState, LOCAL_CHAIN_NAME } from './chain-state-copy.js';
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

/** A peer's copy of the embedded chain's state, against the state as last built here. */
export interface PeerChainStateView {
  /** The newest block of the copy the peer confirmed; null when it has confirmed none (or an older center recorded no block). */
  block: number | null;
  sha256: string | null;
  confirmedAt: string | null;
  /** pending | verified | damaged | missing */
  status: string;
  /** The copy it confirmed is not the current state (an older one, or none yet); null when no state has been built here yet. A damaged or missing copy shows in `status`. */
  stale: boolean | null;
}

export interface BackupStatus {
  minimumCopies: number;
  /**
   * Per peer: `verified` counts only copies not left unchecked by an unanswered challenge; those
   * are `unreachable`. `chainState`: its copy of the embedded chain's state (null without one).
   */
  peers: { id: string; url: string; verified: number; unreachable: number; pending: number; damagedOrMissing: number; lastError: string | null; chainState: PeerChainStateView | null }[];
  /** The embedded chain's state as last built for the peers (null: no embedded chain, or none built yet). */
  chainState: { block: number; sha256: string; since: string } | null;
  blobs: { total: number; belowMinimum: number };
  periods: { total: number; belowMinimum: number };
  /** Registrations of periods not yet sealed, and how many of them each peer holds in journal segments. */
  unsealed: { registrations: number; atPeers: { peer: string; registrations: number }[] };
  items: ObjectCopies[];
  /** With `belowMinimum`: the cursor (`after`) of the next page, null on the last one. */
  next: string | null;
}

/** How many blobs and sealed periods have fewer than `minCopies` verified copies (the local one counts): from the kept counts. */
export function countBelowMinimum(store: Store, minCopies: number): { blobs: number; periods: number; blobTotal: number; periodTotal: number } {
  const blobs = countCopies(store, 'blob', minCopies);
  const periods = countCopies(store, 'period', minCopies);
  return { blobs: blobs.belowMinimum, periods: periods.belowMinimum, blobTotal: blobs.total, periodTotal: periods.total };
}

/** The `next` cursor of a below-minimum page: where the next page starts. */
export function encodeBackupCursor(cursor: CopyCountCursor): string {
  return Buffer.from(JSON.stringify([cursor.kind, cursor.copies, cursor.createdAt, cursor.object]), 'utf8').toString('base64url');
}

/** A cursor given back by a client, or undefined when it is not one this service made. */
export function parseBackupCursor(value: string): CopyCountCursor | undefined {
  if (value.length > 400 || !/^[A-Za-z0-9_-]+$/.test(value)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 4) return undefined;
  const [kind, copies, createdAt, object] = parsed as unknown[];
  if ((kind !== 'blob' && kind !== 'period') || !Number.isSafeInteger(copies) || (copies as number) < 0 || typeof createdAt !== 'string' || typeof object !== 'string') return undefined;
  return { kind, copies: copies as number, createdAt, object };
}

/**
 * Per blob and sealed period: where verified copies are, how many, and whether that is below
 * the minimum. Newest first, `limit` per kind; or, when only those below the minimum are asked
 * for, `limit` of them per page (blobs, then periods; fewest copies first, newest first among
 * equals), after `after`, with `next` naming the page after it.
 */
export function backupStatus(
  store: Store,
  options: { minCopies: number; peers: readonly PeerConfig[]; limit: number; kind?: ReplicaKind; belowMinimumOnly?: boolean; after?: CopyCountCursor },
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
    items.push({ ...item, verifiedCopies, belowMinimum: verifiedCopies < options.minCopies });
  };
  const blobItems = (blobs: readonly VaultBlobRow[]) => {
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
  };
  const periodItems = (periods: readonly number[]) => {
    const replicas = groupBy(listReplicasOf(store, 'period', periods.map(String)));
    for (const id of periods) {
      finish({ kind: 'period', id: String(id), copies: [{ where: 'local', status: 'ok', verified: true }, ...(replicas.get(String(id)) ?? []).map(toView)] });
    }
  };
  let next: string | null = null;
  if (options.belowMinimumOnly) {
    const kinds: CountedKind[] = options.kind === 'blob' || options.kind === 'period' ? [options.kind] : ['blob', 'period'];
    // One more than a page: whether there is a next page, without a count.
    const rows = listBelowMinimum(store, { kinds, minCopies: options.minCopies, limit: options.limit + 1, ...(options.after && { after: options.after }) });
    const page = rows.slice(0, options.limit);
    const last = page[page.length - 1];
    if (rows.length > options.limit && last) next = encodeBackupCursor({ kind: last.kind, copies: last.copies, createdAt: last.created_at, object: last.object });
    const blobs = page.filter((r) => r.kind === 'blob').map((r) => Buffer.from(r.object, 'hex'));
    const blobRows = new Map(
      (blobs.length === 0 ? [] : store.all(store.db.selectFrom('vault_blob').selectAll().where('sha256', 'in', blobs))).map((b) => [b.sha256.toString('hex'), b]),
    );
    // The page is in order: its blobs, then its periods.
    blobItems(page.flatMap((r) => (r.kind === 'blob' && blobRows.has(r.object) ? [blobRows.get(r.object)!] : [])));
    periodItems(page.filter((r) => r.kind === 'period').map((r) => Number(r.object)));
  } else {
    if (options.kind !== 'period') {
      // Bounded from the top (every ISO time sorts below '9999'): the index's seek, not a scan of it.
      blobItems(store.all(store.db.selectFrom('vault_blob').selectAll().where('created_at', '<=', '9999').orderBy('created_at', 'desc').limit(options.limit)));
    }
    if (options.kind !== 'blob') {
      periodItems(store.prepare("SELECT id FROM period WHERE id < ? AND status = 'sealed' ORDER BY id DESC LIMIT ?").pluck().all(Number.MAX_SAFE_INTEGER, options.limit) as number[]);
    }
  }
  // From the kept totals (replica_total): grouping every replica row of a peer took a tenth of
  // a second per call at 200,000 blobs.
  const current = currentChainState(store);
  const chainCopies = listReplicasOf(store, 'chain', [LOCAL_CHAIN_NAME]);
  const chainStateAt = (peer: string): PeerChainStateView | null => {
    const r = chainCopies.find((c) => c.peer === peer);
    if (!r) return null;
    const confirmed = r.confirmed_hash !== null;
    return {
      block: confirmed && r.revision !== null && /^\d{1,15}$/.test(r.revision) ? Number(r.revision) : null,
      sha256: r.confirmed_hash,
      confirmedAt: r.confirmed_at,
      status: r.status,
      stale: current ? r.confirmed_hash !== current.sha256 : null,
    };
  };
  const peers = options.peers.map((p) => {
    const totals = replicaTotalsOf(store, p.id);
    const n = (state: string, kinds?: (kind: ReplicaKind) => boolean) => totals.filter((t) => t.state === state && (!kinds || kinds(t.kind))).reduce((sum, t) => sum + t.replicas, 0);
    // A journal segment's unanswered challenge does not take it out of `verified` here (as before).
    const unreachable = n('unreachable', (k) => k !== 'journal');
    const verified = n('verified') + n('unreachable', (k) => k === 'journal');
    return { id: p.id, url: p.url, verified, unreachable, pending: n('pending'), damagedOrMissing: n('damaged') + n('missing'), lastError: lastReplicaError(store, p.id), chainState: chainStateAt(p.id) };
  });
  // From the periods' own counts and the segments' id ranges: counting the rows of an open period
  // of a million registrations held the event loop for tens of milliseconds on every status call.
  // A period's registrations are one range of ids (given in order, appended while it is open), so
  // a segment `P:first-last` holds last - first + 1 of them; overlapping segments count once.
  const unsealed = store.prepare("SELECT id, leaf_count FROM period WHERE status IN ('open', 'sealing')").all() as { id: number; leaf_count: number }[];
  const unsealedCount = unsealed.reduce((sum, p) => sum + p.leaf_count, 0);
  const unsealedIds = new Set(unsealed.map((p) => p.id));
  const atPeers = options.peers.map((p) => {
    const keys = listVerifiedJournalKeys(store, p.id);
    return { peer: p.id, registrations: countInSegments(keys, unsealedIds) };
  });
  return {
    minimumCopies: options.minCopies,
    peers,
    chainState: current ? { block: current.bestBlock, sha256: current.sha256, since: current.since } : null,
    unsealed: { registrations: unsealedCount, atPeers },
    blobs: { total: counts.blobTotal, belowMinimum: counts.blobs },
    periods: { total: counts.periodTotal, belowMinimum: counts.periods },
    items,
    next,
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
