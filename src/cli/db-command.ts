import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { periodProblemNow } from '../registry/period-rederive.js';
import { copySqliteToPostgres, DatabaseCopyError } from '../store/database-copy.js';
import { isPostgresUrl, redactDatabaseUrl } from '../store/dialect.js';
import { Store } from '../store/store.js';
import { CliError, EXIT_OK, usageError } from './cli-error.js';

type Env = Readonly<Record<string, string | undefined>>;

export const DB_USAGE =
  'archive-seal db migrate [--data-dir DIR | --database-url postgres://…]\n' +
  '  Brings the center\'s database (ARCHIVE_SEAL_DATABASE_URL, else DIR/archive-seal.sqlite) to the schema of this version.\n' +
  'archive-seal db copy --from sqlite:FILE --to postgres://USER:PASSWORD@HOST:PORT/DB\n' +
  '  Moves a center from its SQLite file to an empty PostgreSQL database (stop the center first): every\n' +
  '  table, in one transaction; then re-derives every period\'s leaves and sealed root from the copied\n' +
  '  records and compares them, before it commits. Exit 0 when all of it holds, 1 otherwise (nothing is copied then).';

/** `archive-seal db migrate | copy`. */
export async function dbCommand(args: string[], env: Env): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'migrate') return migrate(rest, env);
  if (sub === 'copy') return copy(rest);
  throw usageError(`usage: ${DB_USAGE}`);
}

async function migrate(args: string[], env: Env): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { 'data-dir': { type: 'string' }, 'database-url': { type: 'string' } } });
  if (positionals.length > 0) throw usageError(`usage: ${DB_USAGE}`);
  const config = loadConfig({
    ...env,
    ...(values['data-dir'] !== undefined && { ARCHIVE_SEAL_DATA_DIR: values['data-dir'] }),
    ...(values['database-url'] !== undefined && { ARCHIVE_SEAL_DATABASE_URL: values['database-url'] }),
  });
  const file = join(config.dataDir, 'archive-seal.sqlite');
  if (config.databaseUrl === undefined && !existsSync(file)) throw new CliError(`there is no center database at ${file}: give --data-dir, or --database-url for PostgreSQL`);
  const store = await openStore({ file, url: config.databaseUrl });
  try {
    const last = store.prepare('SELECT name FROM kysely_migration ORDER BY name DESC LIMIT 1').pluck().get() as string | undefined;
    process.stdout.write(`${describe(store, file, config.databaseUrl)}: schema up to date (last migration ${last})\n`);
  } finally {
    store.close();
  }
  return EXIT_OK;
}

async function copy(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { from: { type: 'string' }, to: { type: 'string' }, json: { type: 'boolean', default: false } } });
  if (positionals.length > 0 || !values.from || !values.to) throw usageError(`usage: ${DB_USAGE}`);
  if (!values.from.startsWith('sqlite:')) throw usageError(`--from ${values.from}: expected sqlite:FILE (the center's archive-seal.sqlite)`);
  const sourceFile = resolve(values.from.slice('sqlite:'.length));
  if (!existsSync(sourceFile)) throw new CliError(`--from: there is no SQLite database at ${sourceFile}`);
  if (!isPostgresUrl(values.to)) throw usageError(`--to ${redactDatabaseUrl(values.to)}: expected postgres://USER:PASSWORD@HOST:PORT/DB`);
  const source = await openStore({ file: sourceFile });
  try {
    const target = await openStore({ file: '', url: values.to });
    try {
      let lastLine = 0;
      let periods = 0;
      const copies = copySqliteToPostgres(source, target, {
        progress: (table, rows) => {
          if (process.stderr.isTTY && Date.now() - lastLine > 500) {
            lastLine = Date.now();
            process.stderr.write(`\r${table}: ${rows} rows`);
          }
        },
        // Every record re-hashed to its leaf, every sealed period to its root, on the copy itself.
        check: (copy) => {
          const ids = copy.prepare('SELECT id FROM period ORDER BY id').pluck().all() as number[];
          periods = ids.length;
          return ids.flatMap((id) => {
            const problem = periodProblemNow(copy, id);
            return problem ? [`period ${id}: ${problem}`] : [];
          });
        },
      });
      if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
      const sealed = target.prepare("SELECT count(*) FROM period WHERE status = 'sealed' AND root IS NOT NULL").pluck().get() as number;
      if (values.json) {
        process.stdout.write(JSON.stringify({ to: redactDatabaseUrl(values.to), tables: copies, periods, sealedRoots: sealed, problems: [] }, null, 2) + '\n');
      } else {
        for (const c of copies) process.stdout.write(`${c.table.padEnd(26)} ${c.rows}\n`);
        process.stdout.write(`copied to ${redactDatabaseUrl(values.to)}; ${periods} periods re-derived from their records, ${sealed} sealed roots compared\n`);
      }
      return EXIT_OK;
    } finally {
      target.close();
    }
  } catch (err) {
    if (err instanceof DatabaseCopyError) throw new CliError(`${err.code}: ${err.message}; nothing was copied`);
    throw err;
  } finally {
    source.close();
  }
}

async function openStore(options: { file: string; url?: string | undefined }): Promise<Store> {
  try {
    return await Store.open(options);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

function describe(store: Store, file: string, url: string | undefined): string {
  return store.engine === 'postgres' ? `PostgreSQL ${redactDatabaseUrl(url!)}` : `SQLite ${file}`;
}
