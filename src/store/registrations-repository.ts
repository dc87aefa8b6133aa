import { hash } from 'node:crypto';
import type { Store } from './store.js';
import type { NewRegistrationRow, RegistrationRow } from './database.js';

// The insert and the duplicate check run once per registration at tens of thousands per second:
// prepared statements here (kysely compiles the same SQL, at 1.2-2.6x the cost; FINDINGS.md).
const INSERT_SQL =
  'INSERT INTO registration (id, period_id, leaf_index, registrant_id, sha256, sha256_key, sm3, size, has_file, record, record_digest, salt, leaf_hash, registered_at) ' +
  'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
const FIND_SAME_SQL = 'SELECT id, sha256, sm3, size, has_file, leaf_hash FROM registration WHERE registrant_id = ? AND sha256_key = ?';
const SUMMARIES_SQL =
  'SELECT r.id, r.period_id, r.registered_at, r.leaf_hash, r.sha256, r.sm3, p.status = \'sealed\' AND p.root IS NOT NULL AS sealed ' +
  'FROM registration r JOIN period p ON p.id = r.period_id WHERE r.id IN (SELECT value FROM json_each(?))';

/**
 * The duplicate look-up key of a SHA-256 digest: the first 6 bytes of the digest's own SHA-256,
 * as a (safe) integer. Hashing again matters: a hash-only registrant chooses the "digests" it
 * sends, and many sharing their first bytes would turn every look-up into a scan.
 */
export function sha256Key(sha256: Buffer): number {
  // Hex output and the first 12 digits: node:crypto's one-shot hash makes a Buffer at twice the cost.
  return parseInt(hash('sha256', sha256, 'hex').slice(0, 12), 16);
}

/** Inserts one registration. Call inside a transaction. */
export function insertRegistration(store: Store, row: Required<NewRegistrationRow>): void {
  // Positional parameters: binding them is cheaper than binding an object's members by name.
  const r = row;
  store.prepare(INSERT_SQL).run(r.id, r.period_id, r.leaf_index, r.registrant_id, r.sha256, r.sha256_key, r.sm3, r.size, r.has_file, r.record, r.record_digest, r.salt, r.leaf_hash, r.registered_at);
}

/** What the duplicate check needs of an earlier registration of the same content. */
export interface SameRegistration {
  id: number;
  /** Hex. */
  leafHash: string;
  /** Hex, when it was given. */
  sm3?: string;
  size?: number;
  /** True when the center holds the original. */
  hasFile: boolean;
}

/** The registration of this content by this registrant, if there is one. */
export function findSameRegistration(store: Store, registrantId: number, sha256: Buffer, key: number): SameRegistration | undefined {
  const candidates = store.prepare(FIND_SAME_SQL).all(registrantId, key) as { id: number; sha256: Buffer; sm3: Buffer | null; size: number | null; has_file: number; leaf_hash: Buffer }[];
  const same = candidates.find((c) => c.sha256.equals(sha256));
  if (!same) return undefined;
  return {
    id: same.id,
    leafHash: same.leaf_hash.toString('hex'),
    hasFile: same.has_file === 1,
    ...(same.sm3 !== null && { sm3: same.sm3.toString('hex') }),
    ...(same.size !== null && { size: same.size }),
  };
}

/** What a batch answer shows of an earlier registration. */
export interface RegistrationSummaryRow {
  id: number;
  period_id: number;
  registered_at: string;
  leaf_hash: Buffer;
  sha256: Buffer;
  sm3: Buffer | null;
  /** 1 when its period is sealed and rooted. */
  sealed: 0 | 1;
}

/** The summaries of registrations `ids`, in one query, by id. */
export function findRegistrationSummaries(store: Store, ids: readonly number[]): Map<number, RegistrationSummaryRow> {
  const rows = store.prepare(SUMMARIES_SQL).all(JSON.stringify(ids)) as RegistrationSummaryRow[];
  return new Map(rows.map((r) => [r.id, r]));
}

/** The largest registration id so far (0 when none). */
export function maxRegistrationId(store: Store): number {
  return (store.prepare('SELECT coalesce(max(id), 0) FROM registration').pluck().get() as number) ?? 0;
}

/** One registration by id (a prepared statement: every proof look-up starts here). */
export function findRegistration(store: Store, id: number): RegistrationRow | undefined {
  return store.prepare('SELECT * FROM registration WHERE id = ?').get(id) as RegistrationRow | undefined;
}

/** Newest first; a registrant's own only when `registrantId` is given. */
export function listRegistrations(
  store: Store,
  options: { limit: number; before?: number; registrantId?: number; periodId?: number; sha256?: Buffer },
): RegistrationRow[] {
  let q = store.db.selectFrom('registration').selectAll().orderBy('id', 'desc').limit(options.limit);
  // By content: an index seek on the digest's look-up key (registration_sha256_key, or with the
  // registrant registration_registrant_sha256_key), then the digest itself.
  if (options.sha256 !== undefined) q = q.where('sha256_key', '=', sha256Key(options.sha256)).where('sha256', '=', options.sha256);
  if (options.before !== undefined) q = q.where('id', '<', options.before);
  if (options.registrantId !== undefined) q = q.where('registrant_id', '=', options.registrantId);
  if (options.periodId !== undefined) q = q.where('period_id', '=', options.periodId);
  return store.all(q);
}

/**
 * Copies the leaf hashes of a period, in leaf order, from `fromIndex` (inclusive) to `toIndex`
 * (exclusive), into `target` at the leaf's offset. Returns how many of the range are stored: when
 * that is not the whole range, a leaf is missing and what was copied is not in its place.
 */
export function readLeafHashes(store: Store, periodId: number, fromIndex: number, toIndex: number, target: Buffer): number {
  // One string of hex per range, concatenated by SQLite in leaf order (the ORDER BY inside the
  // aggregate is what guarantees the order), read through the covering index on (period, leaf
  // index, leaf hash): 0.9 s for a million leaves where a Buffer per row took 1.5 s, and a list
  // of 65,536 Buffers would be ~90 MiB of garbage at once. Leaf indexes are unique in a period,
  // so the rows fill the range exactly when all are there.
  const { count, hex } = store
    .prepare(
      "SELECT count(*) AS count, coalesce(group_concat(hex(leaf_hash), '' ORDER BY leaf_index), '') AS hex " +
        'FROM registration WHERE period_id = ? AND leaf_index >= ? AND leaf_index < ?',
    )
    .get(periodId, fromIndex, toIndex) as { count: number; hex: string };
  if (hex.length !== count * 64) throw new Error(`period ${periodId} has a leaf hash that is not 32 bytes in leaves ${fromIndex}..${toIndex - 1}`);
  target.write(hex, fromIndex * 32, 'hex');
  return count;
}
