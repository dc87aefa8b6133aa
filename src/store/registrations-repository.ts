import { hash } from 'node:crypto';
import type { Store } from './store.js';
import type { NewRegistrationRow, RegistrationRow } from './database.js';

// The insert and the duplicate check run once per registration at tens of thousands per second:
// prepared statements here (kysely compiles the same SQL, at 1.2-2.6x the cost; FINDINGS.md).
const INSERT_SQL =
  'INSERT INTO registration (id, period_id, leaf_index, registrant_id, sha256, sha256_key, sm3, size, has_file, record, record_digest, salt, leaf_hash, registered_at) ' +
  'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
const FIND_SAME_SQL = 'SELECT id, sha256, sm3, size, has_file, leaf_hash FROM registration WHERE registrant_id = ? AND sha256_key = ?';
const SUMMARIES_SELECT =
  'SELECT r.id, r.period_id, r.registered_at, r.leaf_hash, r.sha256, r.sm3, CASE WHEN p.status = \'sealed\' AND p.root IS NOT NULL THEN 1 ELSE 0 END AS sealed ' +
  'FROM registration r JOIN period p ON p.id = r.period_id WHERE ';
/** The ids as one parameter: a JSON array on SQLite, an array on PostgreSQL. */
const SUMMARIES_SQL = { sqlite: SUMMARIES_SELECT + 'r.id IN (SELECT value FROM json_each(?))', postgres: SUMMARIES_SELECT + 'r.id = ANY(?::bigint[])' };

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

// On PostgreSQL every statement is a round trip: a group's rows go in one statement, as columns
// (one array parameter each) that `unnest` turns back into rows.
const INSERT_MANY_PG =
  'INSERT INTO registration (id, period_id, leaf_index, registrant_id, sha256, sha256_key, sm3, size, has_file, record, record_digest, salt, leaf_hash, registered_at) ' +
  'SELECT * FROM unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bytea[], ?::bigint[], ?::bytea[], ?::bigint[], ?::bigint[], ?::text[], ?::bytea[], ?::bytea[], ?::bytea[], ?::text[])';
/** Rows per statement: a statement's text stays a few MB. */
const INSERT_MANY_ROWS = 5_000;

/** Inserts registrations: one statement per row on SQLite (in-process), a few for all on PostgreSQL. Call inside a transaction. */
export function insertRegistrations(store: Store, rows: readonly Required<NewRegistrationRow>[]): void {
  if (store.engine !== 'postgres') {
    for (const row of rows) insertRegistration(store, row);
    return;
  }
  for (let start = 0; start < rows.length; start += INSERT_MANY_ROWS) {
    const part = rows.slice(start, start + INSERT_MANY_ROWS);
    const column = <K extends keyof NewRegistrationRow>(k: K) => part.map((r) => r[k]);
    store
      .prepare(INSERT_MANY_PG)
      .run(
        column('id'),
        column('period_id'),
        column('leaf_index'),
        column('registrant_id'),
        column('sha256'),
        column('sha256_key'),
        column('sm3'),
        column('size'),
        column('has_file'),
        column('record'),
        column('record_digest'),
        column('salt'),
        column('leaf_hash'),
        column('registered_at'),
      );
  }
}

/** A content a registrant sends: the duplicate look-up's question. */
export interface SameQuestion {
  registrantId: number;
  sha256: Buffer;
  /** sha256Key(sha256) */
  key: number;
}

const FIND_SAME_MANY_PG =
  'SELECT r.id, r.registrant_id, r.sha256, r.sm3, r.size, r.has_file, r.leaf_hash FROM registration r ' +
  'JOIN (SELECT DISTINCT * FROM unnest(?::bigint[], ?::bigint[]) AS w(registrant_id, sha256_key)) w ON r.registrant_id = w.registrant_id AND r.sha256_key = w.sha256_key';

/**
 * The earlier registrations of several contents, by `sameKey(registrantId, sha256)`: one index
 * seek each on SQLite, one statement for all on PostgreSQL.
 */
export function findSameRegistrations(store: Store, questions: readonly SameQuestion[]): Map<string, SameRegistration> {
  const found = new Map<string, SameRegistration>();
  if (store.engine !== 'postgres') {
    for (const q of questions) {
      const same = findSameRegistration(store, q.registrantId, q.sha256, q.key);
      if (same) found.set(sameKey(q.registrantId, q.sha256), same);
    }
    return found;
  }
  if (questions.length === 0) return found;
  const rows = store.prepare(FIND_SAME_MANY_PG).all(
    questions.map((q) => q.registrantId),
    questions.map((q) => q.key),
  ) as { id: number; registrant_id: number; sha256: Buffer; sm3: Buffer | null; size: number | null; has_file: number; leaf_hash: Buffer }[];
  for (const row of rows) found.set(sameKey(row.registrant_id, row.sha256), sameOf(row));
  return found;
}

/** The key of `findSameRegistrations`' answer. */
export function sameKey(registrantId: number, sha256: Buffer): string {
  return `${registrantId}:${sha256.toString('hex')}`;
}

function sameOf(same: { id: number; sm3: Buffer | null; size: number | null; has_file: number; leaf_hash: Buffer }): SameRegistration {
  return {
    id: same.id,
    leafHash: same.leaf_hash.toString('hex'),
    hasFile: same.has_file === 1,
    ...(same.sm3 !== null && { sm3: same.sm3.toString('hex') }),
    ...(same.size !== null && { size: same.size }),
  };
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
  return same ? sameOf(same) : undefined;
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
  const rows = (store.engine === 'postgres' ? store.prepare(SUMMARIES_SQL.postgres).all(ids) : store.prepare(SUMMARIES_SQL.sqlite).all(JSON.stringify(ids))) as RegistrationSummaryRow[];
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

// A page of a list is a seek, never a scan and sort (issue 17, item 9: a page of a 580,000-row
// period took 3-5 s on the HTTP thread). Registration ids are given in order and a period's
// registrations are appended while it is open, so a period is one range of ids, found at the ends
// of its leaf index; within it, `id < before` pages from the newest down. The period's own
// condition is written `+period_id` so that SQLite does not read the period's index instead
// (every row of the period, then sorted by id). A registrant's list reads its own index
// (registrant, id), bounded the same way. The first page is bounded too (`id <` the largest id),
// so that it is the same seek as every later one.
const PERIOD_FIRST_ID_SQL = 'SELECT id FROM registration WHERE period_id = ? ORDER BY leaf_index ASC LIMIT 1';
const PERIOD_LAST_ID_SQL = 'SELECT id FROM registration WHERE period_id = ? ORDER BY leaf_index DESC LIMIT 1';

/** The SQL of one page of a registration list (exported for the test that checks its query plan). */
export function registrationPageQuery(options: { before?: number; registrantId?: number; periodId?: number }): { sql: string; parameters: (limit: number, range?: { first: number; last: number }) => number[] } {
  const where: string[] = [];
  if (options.registrantId !== undefined) where.push('registrant_id = ?');
  if (options.periodId !== undefined) where.push('id >= ?', '+period_id = ?');
  // One upper bound, the lower of `before` and the period's end: given two, SQLite seeks on one
  // and filters by the other, and every page would start reading at the period's last row.
  where.push('id < ?');
  const sql = `SELECT * FROM registration WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`;
  return {
    sql,
    parameters: (limit, range) => {
      const before = options.before ?? Number.MAX_SAFE_INTEGER;
      return [
        ...(options.registrantId !== undefined ? [options.registrantId] : []),
        ...(options.periodId !== undefined && range ? [range.first, options.periodId] : []),
        range ? Math.min(before, range.last + 1) : before,
        limit,
      ];
    },
  };
}

/** The first and last registration ids of a period, or undefined when it has none. */
export function periodIdRange(store: Store, periodId: number): { first: number; last: number } | undefined {
  const first = store.prepare(PERIOD_FIRST_ID_SQL).pluck().get(periodId) as number | undefined;
  if (first === undefined) return undefined;
  return { first, last: store.prepare(PERIOD_LAST_ID_SQL).pluck().get(periodId) as number };
}

/** Newest first, ids below `before` when given; a registrant's own only when `registrantId` is given. */
export function listRegistrations(
  store: Store,
  options: { limit: number; before?: number; registrantId?: number; periodId?: number; sha256?: Buffer },
): RegistrationRow[] {
  if (options.sha256 !== undefined) {
    // By content: an index seek on the digest's look-up key (registration_sha256_key, or with the
    // registrant registration_registrant_sha256_key), then the digest itself; few rows.
    let q = store.db.selectFrom('registration').selectAll().orderBy('id', 'desc').limit(options.limit);
    q = q.where('sha256_key', '=', sha256Key(options.sha256)).where('sha256', '=', options.sha256);
    if (options.before !== undefined) q = q.where('id', '<', options.before);
    if (options.registrantId !== undefined) q = q.where('registrant_id', '=', options.registrantId);
    if (options.periodId !== undefined) q = q.where('period_id', '=', options.periodId);
    return store.all(q);
  }
  let range: { first: number; last: number } | undefined;
  if (options.periodId !== undefined) {
    range = periodIdRange(store, options.periodId);
    if (!range) return [];
  }
  const query = registrationPageQuery(options);
  return store.prepare(query.sql).all(...query.parameters(options.limit, range)) as RegistrationRow[];
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
  if (store.engine === 'postgres') {
    // PostgreSQL concatenates the bytes themselves, in leaf order.
    const { count, hashes } = store
      .prepare("SELECT count(*) AS count, coalesce(string_agg(leaf_hash, ''::bytea ORDER BY leaf_index), ''::bytea) AS hashes FROM registration WHERE period_id = ? AND leaf_index >= ? AND leaf_index < ?")
      .get(periodId, fromIndex, toIndex) as { count: number; hashes: Buffer };
    if (hashes.length !== count * 32) throw new Error(`period ${periodId} has a leaf hash that is not 32 bytes in leaves ${fromIndex}..${toIndex - 1}`);
    hashes.copy(target, fromIndex * 32);
    return count;
  }
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
