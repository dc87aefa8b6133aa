import type { Store } from './store.js';

/** What a copy moved, table by table. */
export interface TableCopy {
  table: string;
  rows: number;
}

/** Thrown when a copy cannot start or does not hold: names what is wrong. */
export class DatabaseCopyError extends Error {
  override readonly name = 'DatabaseCopyError';
  constructor(
    readonly code: 'TARGET_NOT_EMPTY' | 'SCHEMA_MISMATCH' | 'COUNT_MISMATCH' | 'COPY_CHECK_FAILED',
    message: string,
  ) {
    super(message);
  }
}

/** Rows read from the source per page. */
const PAGE_ROWS = 5_000;
/** PostgreSQL takes at most 65,535 parameters in one statement. */
const MAX_PARAMETERS = 60_000;

/**
 * Copies every row of a SQLite registry (`from`, its schema up to date) into an empty PostgreSQL
 * one (`to`, migrated), in one transaction: all of it, or nothing. Tables go in the order their
 * foreign keys need; each keeps its ids (and SQLite's `rowid` where the schema reads it, see
 * migration postgres-rowids); the identity sequences then start past them. Row counts are
 * compared table by table, and `check` asked, before the commit.
 */
export function copySqliteToPostgres(
  from: Store,
  to: Store,
  options: { progress?: (table: string, rows: number) => void; check?: (copy: Store) => string[] } = {},
): TableCopy[] {
  const progress = options.progress ?? (() => {});
  if (from.engine !== 'sqlite' || to.engine !== 'postgres') throw new Error('a copy goes from SQLite to PostgreSQL');
  const tables = sqliteTables(from);
  const targetTables = new Set(
    to.prepare("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'").pluck().all() as string[],
  );
  for (const t of tables) {
    if (!targetTables.has(t)) throw new DatabaseCopyError('SCHEMA_MISMATCH', `table ${t} of the SQLite registry is not in the PostgreSQL one: run both on the same version (archive-seal db migrate)`);
  }
  const nonEmpty = tables.filter((t) => (to.prepare(`SELECT count(*) FROM (SELECT 1 FROM "${t}" LIMIT 1) AS x`).pluck().get() as number) > 0);
  // A new center writes center_meta and an admin at start: only a registry with nothing registered may be replaced.
  const registered = nonEmpty.filter((t) => !['center_meta', 'account', 'api_token'].includes(t));
  if (registered.length > 0) {
    throw new DatabaseCopyError('TARGET_NOT_EMPTY', `the PostgreSQL registry already holds rows (${registered.join(', ')}): copy into an empty database`);
  }

  return to.transaction(() => {
    // What a center started on the empty database wrote (its first admin and meta) gives way to the copy.
    for (const t of [...nonEmpty].reverse()) to.prepare(`DELETE FROM "${t}"`).run();
    const copies: TableCopy[] = [];
    for (const table of tables) {
      const columns = (from.prepare(`SELECT name FROM pragma_table_info('${table}') ORDER BY cid`).pluck().all() as string[]);
      const targetColumns = new Set(
        to.prepare('SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?').pluck().all(table) as string[],
      );
      const missing = columns.filter((c) => !targetColumns.has(c));
      if (missing.length > 0) throw new DatabaseCopyError('SCHEMA_MISMATCH', `columns ${missing.join(', ')} of ${table} are not in the PostgreSQL registry`);
      // Where PostgreSQL has a `rowid` column, SQLite's implicit one is copied into it.
      const withRowid = targetColumns.has('rowid') && !columns.includes('rowid');
      const names = withRowid ? ['rowid', ...columns] : columns;
      const select = `SELECT rowid AS "__rowid", ${columns.map((c) => `"${c}"`).join(', ')} FROM "${table}" WHERE rowid > ? ORDER BY rowid LIMIT ${PAGE_ROWS}`;
      const perStatement = Math.max(1, Math.floor(MAX_PARAMETERS / names.length));
      let after = -Number.MAX_SAFE_INTEGER;
      let copied = 0;
      for (;;) {
        const page = from.prepare(select).all(after) as Record<string, unknown>[];
        if (page.length === 0) break;
        after = page[page.length - 1]!.__rowid as number;
        for (let i = 0; i < page.length; i += perStatement) {
          const part = page.slice(i, i + perStatement);
          const values: unknown[] = [];
          const tuples = part.map((row) => {
            const cells = names.map((n) => (values.push(n === 'rowid' && withRowid ? row.__rowid : row[n]), '?'));
            return `(${cells.join(', ')})`;
          });
          to.prepare(`INSERT INTO "${table}" (${names.map((n) => `"${n}"`).join(', ')}) VALUES ${tuples.join(', ')}`).run(...values);
        }
        copied += page.length;
        progress(table, copied);
      }
      const sourceCount = from.prepare(`SELECT count(*) FROM "${table}"`).pluck().get() as number;
      const targetCount = to.prepare(`SELECT count(*) FROM "${table}"`).pluck().get() as number;
      if (sourceCount !== targetCount || copied !== sourceCount) {
        throw new DatabaseCopyError('COUNT_MISMATCH', `${table}: ${sourceCount} rows in SQLite, ${targetCount} in PostgreSQL after the copy`);
      }
      copies.push({ table, rows: copied });
    }
    to.syncIdentities();
    // Checked on the copy before it commits: a copy that does not hold is not kept.
    const problems = options.check?.(to) ?? [];
    if (problems.length > 0) throw new DatabaseCopyError('COPY_CHECK_FAILED', problems.join('; '));
    return copies;
  });
}

/** The registry's tables of a SQLite database, parents before the tables that refer to them. */
function sqliteTables(store: Store): string[] {
  const names = store
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'kysely_%' ORDER BY name")
    .pluck()
    .all() as string[];
  const parents = new Map(names.map((n) => [n, (store.prepare(`SELECT "table" FROM pragma_foreign_key_list('${n}')`).pluck().all() as string[]).filter((p) => p !== n)]));
  const ordered: string[] = [];
  const visit = (n: string, path: Set<string>) => {
    if (ordered.includes(n) || path.has(n)) return;
    path.add(n);
    for (const p of parents.get(n) ?? []) visit(p, path);
    ordered.push(n);
  };
  for (const n of names) visit(n, new Set());
  return ordered;
}
