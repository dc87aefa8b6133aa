import BetterSqlite3 from 'better-sqlite3';
import { hostname } from 'node:os';
import {
  Kysely,
  Migrator,
  PostgresDialect,
  SqliteDialect,
  type Compilable,
  type InferResult,
  type MigrationProvider,
} from 'kysely';
import { ensurePrivateFileSync, makePrivateIfExistsSync } from '../durable-files.js';
import type { Database } from './database.js';
import { PostgresSchemaPlugin, redactDatabaseUrl, toPostgresPlaceholders, type Engine } from './dialect.js';
import { MIGRATIONS } from './migrations/index.js';
import { PgSyncConnection } from './pg-sync.js';

export interface StoreOptions {
  /** SQLite file, or ':memory:'. Ignored when `url` is given. */
  file: string;
  /** A PostgreSQL database (`postgres://user:password@host:port/name`): the center runs on it instead of the file. */
  url?: string | undefined;
  /**
   * FULL (default) makes every commit durable before we answer; NORMAL in WAL mode survives a
   * process crash but may lose the last commits on power loss.
   */
  synchronous?: 'FULL' | 'NORMAL';
  readonly?: boolean;
}

/** A raw statement (hot paths only), with SQLite's `?` placeholders on both engines. */
export interface SqlStatement {
  all(...params: unknown[]): unknown[];
  get(...params: unknown[]): unknown;
  run(...params: unknown[]): { changes: number };
  /** Rows as their first column's value. */
  pluck(toggle?: boolean): SqlStatement;
}

/** How this process names its PostgreSQL sessions (`archive-seal HOST:PID`; every thread the same). */
export function processApplicationName(): string {
  return `archive-seal ${hostname()}:${process.pid}`.slice(0, 63);
}

/**
 * Serializes the write transactions of every process on one PostgreSQL database, as SQLite's
 * IMMEDIATE transactions do on a file: ids, leaf indexes and period states are decided by one
 * writer at a time. (A constant: "archive-seal writer".)
 */
const POSTGRES_WRITER_LOCK = 0x41534557;

/**
 * The database: kysely builds typed SQL, a synchronous driver runs it: better-sqlite3 on the
 * embedded SQLite file, or a `pg` session on its own thread (PgSyncConnection) on PostgreSQL.
 *
 * Running compiled kysely queries on a synchronous driver lets a transaction be one synchronous
 * function: nothing else on the event loop can interleave with it, and no transaction is ever
 * left open across an `await`. On PostgreSQL each write transaction takes one advisory lock, so
 * that several processes on one database write one at a time as they would on SQLite.
 */
export class Store {
  readonly engine: Engine;
  readonly db: Kysely<Database>;
  private readonly sqliteDb: BetterSqlite3.Database | undefined;
  private readonly pg: PgSyncConnection | undefined;
  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  private readonly pgStatements = new Map<string, string>();
  private pgDepth = 0;

  private constructor(driver: { sqlite: BetterSqlite3.Database } | { pg: PgSyncConnection }) {
    if ('sqlite' in driver) {
      this.engine = 'sqlite';
      this.sqliteDb = driver.sqlite;
      this.db = new Kysely<Database>({ dialect: new SqliteDialect({ database: driver.sqlite }) });
    } else {
      this.engine = 'postgres';
      this.pg = driver.pg;
      const url = driver.pg.url;
      // kysely compiles every query; its own pool runs only the migrations (asynchronous).
      this.db = new Kysely<Database>({
        dialect: new PostgresDialect({
          pool: async () => {
            const pg = (await import('pg')).default;
            // Numbers and booleans as the synchronous connections read them (pg-sync.ts).
            const types = new pg.TypeOverrides();
            types.setTypeParser(20, (v: string) => Number(v));
            types.setTypeParser(1700, (v: string) => Number(v));
            types.setTypeParser(16, (v: string) => (v === 't' ? 1 : 0));
            return new pg.Pool({ connectionString: url, max: 1, types });
          },
        }),
      });
    }
  }

  /** The PostgreSQL database's URL (PostgreSQL only). */
  get url(): string | undefined {
    return this.pg?.url;
  }

  /** The SQLite connection (SQLite only: the few SQLite-file operations, e.g. a restore's journal mode). */
  get sqlite(): BetterSqlite3.Database {
    if (!this.sqliteDb) throw new Error('this center runs on PostgreSQL, not on a SQLite file');
    return this.sqliteDb;
  }

  /** Opens (creating if needed) the database and brings its schema up to date. */
  static async open(options: StoreOptions): Promise<Store> {
    const store = Store.openConnection(options);
    try {
      if (!options.readonly) await store.migrate();
      return store;
    } catch (err) {
      store.close();
      throw err;
    }
  }

  /**
   * Another connection to a database whose schema is already up to date (the registration
   * writer's thread has its own). WAL mode lets it write while other connections read.
   */
  static openConnection(options: StoreOptions): Store {
    if (options.url !== undefined) {
      try {
        return new Store({ pg: new PgSyncConnection(options.url, { applicationName: processApplicationName() }) });
      } catch (err) {
        throw new Error(`cannot connect to the database ${redactDatabaseUrl(options.url)}: ${(err as Error).message}`, { cause: err });
      }
    }
    if (!options.readonly && options.file !== ':memory:') {
      // SQLite creates the -wal and -shm files with the database's own mode: a private database
      // gives private companions. Those of a database made before this are made private too.
      ensurePrivateFileSync(options.file);
      for (const companion of ['-wal', '-shm', '-journal']) makePrivateIfExistsSync(options.file + companion);
    }
    const sqlite = new BetterSqlite3(options.file, { readonly: options.readonly ?? false });
    try {
      if (!options.readonly) {
        sqlite.pragma('journal_mode = WAL');
        sqlite.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
      }
      sqlite.pragma('foreign_keys = ON');
      // 64 MiB of page cache: the duplicate index of a million registrations stays in memory.
      sqlite.pragma('cache_size = -65536');
      // Connections wait for each other's write transactions instead of failing at once.
      sqlite.pragma('busy_timeout = 10000');
      return new Store({ sqlite });
    } catch (err) {
      sqlite.close();
      throw err;
    }
  }

  private async migrate(): Promise<void> {
    const provider: MigrationProvider = { getMigrations: async () => ({ ...MIGRATIONS }) };
    // On PostgreSQL the schema's SQLite types are translated (dialect.ts); kysely's migrator
    // takes its own lock, so several processes starting at once migrate once.
    const db = this.engine === 'postgres' ? this.db.withPlugin(new PostgresSchemaPlugin()) : this.db;
    const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
    if (error) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
      throw new Error(`database migration ${failed} failed`, { cause: error });
    }
  }

  /**
   * A statement for raw SQL with `?` placeholders (hot paths only; everything else goes through
   * kysely): a cached prepared statement on SQLite.
   */
  prepare(source: string): SqlStatement {
    if (this.pg) return new PgStatement(this.pg, this.postgresText(source));
    let stmt = this.statements.get(source);
    if (!stmt) {
      stmt = this.sqlite.prepare(source);
      this.statements.set(source, stmt);
    }
    return stmt;
  }

  private postgresText(source: string): string {
    let text = this.pgStatements.get(source);
    if (text === undefined) {
      text = toPostgresPlaceholders(source);
      this.pgStatements.set(source, text);
    }
    return text;
  }

  /** All rows of a kysely query. */
  all<Q extends Compilable<any>>(query: Q): InferResult<Q> {
    const { sql, parameters } = query.compile();
    if (this.pg) return this.pg.query(sql, parameters).rows as InferResult<Q>;
    return this.prepare(sql).all(...(parameters as unknown[])) as InferResult<Q>;
  }

  /** The first row of a kysely query, or undefined. */
  first<Q extends Compilable<any>>(query: Q): InferResult<Q>[number] | undefined {
    const { sql, parameters } = query.compile();
    if (this.pg) return this.pg.query(sql, parameters).rows[0] as InferResult<Q>[number] | undefined;
    return this.prepare(sql).get(...(parameters as unknown[])) as InferResult<Q>[number] | undefined;
  }

  /** Runs a kysely statement; returns the number of rows changed. */
  run(query: Compilable<any>): number {
    const { sql, parameters } = query.compile();
    if (this.pg) return this.pg.query(sql, parameters).rowCount;
    return this.prepare(sql).run(...(parameters as unknown[])).changes;
  }

  /** Sets the WAL pages after which this connection's commits checkpoint (SQLite's default: 1,000; nothing on PostgreSQL). */
  setWalAutocheckpoint(pages: number): void {
    if (this.sqliteDb) this.sqliteDb.pragma(`wal_autocheckpoint = ${Math.trunc(pages)}`);
  }

  /**
   * Runs `fn` in one transaction: all of it commits, or none of it. One writer at a time: an
   * IMMEDIATE transaction on SQLite, the writers' advisory lock on PostgreSQL. Nested calls are
   * savepoints.
   */
  transaction<T>(fn: () => T): T {
    const pg = this.pg;
    if (!pg) return this.sqlite.transaction(fn).immediate();
    const depth = this.pgDepth;
    const savepoint = `s${depth}`;
    pg.query(depth === 0 ? `BEGIN; SELECT pg_advisory_xact_lock(${POSTGRES_WRITER_LOCK})` : `SAVEPOINT ${savepoint}`, []);
    this.pgDepth = depth + 1;
    try {
      const result = fn();
      if (result instanceof Promise) throw new Error('a store transaction must be synchronous');
      pg.query(depth === 0 ? 'COMMIT' : `RELEASE SAVEPOINT ${savepoint}`, []);
      return result;
    } catch (err) {
      try {
        pg.query(depth === 0 ? 'ROLLBACK' : `ROLLBACK TO SAVEPOINT ${savepoint}`, []);
      } catch {
        // The session is gone: the server rolls the transaction back itself.
      }
      throw err;
    } finally {
      this.pgDepth = depth;
    }
  }

  /**
   * After rows were written with their ids given (a restore, a copy), the next id the database
   * gives each table starts past them (PostgreSQL's identity sequences; SQLite needs nothing).
   */
  syncIdentities(): void {
    const pg = this.pg;
    if (!pg) return;
    const columns = pg.query(
      "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() AND is_identity = 'YES'",
      [],
    ).rows as { table_name: string; column_name: string }[];
    for (const { table_name: t, column_name: c } of columns) {
      pg.query(`SELECT setval(pg_get_serial_sequence('"${t}"', '${c}'), greatest(coalesce((SELECT max("${c}") FROM "${t}"), 0), 1), (SELECT count(*) > 0 FROM "${t}"))`, []);
    }
  }

  close(): void {
    if (this.pg) {
      this.pg.close();
      void this.db.destroy();
      return;
    }
    if (this.sqlite.open) this.sqlite.close();
  }
}

/** A raw statement on PostgreSQL (its text already with `$n` placeholders). */
class PgStatement implements SqlStatement {
  constructor(
    private readonly pg: PgSyncConnection,
    private readonly text: string,
    private readonly plucked = false,
  ) {}

  all(...params: unknown[]): unknown[] {
    return this.pg.query(this.text, params, this.plucked).rows;
  }

  get(...params: unknown[]): unknown {
    return this.pg.query(this.text, params, this.plucked).rows[0];
  }

  run(...params: unknown[]): { changes: number } {
    return { changes: this.pg.query(this.text, params).rowCount };
  }

  pluck(toggle = true): SqlStatement {
    return new PgStatement(this.pg, this.text, toggle);
  }
}
