import BetterSqlite3 from 'better-sqlite3';
import {
  Kysely,
  Migrator,
  SqliteDialect,
  type Compilable,
  type InferResult,
  type MigrationProvider,
} from 'kysely';
import { ensurePrivateFileSync, makePrivateIfExistsSync } from '../durable-files.js';
import type { Database } from './database.js';
import { MIGRATIONS } from './migrations/index.js';

export interface StoreOptions {
  /** SQLite file, or ':memory:'. */
  file: string;
  /**
   * FULL (default) makes every commit durable before we answer; NORMAL in WAL mode survives a
   * process crash but may lose the last commits on power loss.
   */
  synchronous?: 'FULL' | 'NORMAL';
  readonly?: boolean;
}

/**
 * The database: kysely builds typed SQL, better-sqlite3 runs it synchronously.
 *
 * Running compiled kysely queries on the synchronous driver lets a transaction be one
 * synchronous function: nothing else on the event loop can interleave with it, and no
 * transaction is ever left open across an `await`.
 */
export class Store {
  readonly db: Kysely<Database>;
  readonly sqlite: BetterSqlite3.Database;
  private readonly statements = new Map<string, BetterSqlite3.Statement>();

  private constructor(sqlite: BetterSqlite3.Database) {
    this.sqlite = sqlite;
    this.db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
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
      return new Store(sqlite);
    } catch (err) {
      sqlite.close();
      throw err;
    }
  }

  private async migrate(): Promise<void> {
    const provider: MigrationProvider = { getMigrations: async () => ({ ...MIGRATIONS }) };
    const { error, results } = await new Migrator({ db: this.db, provider }).migrateToLatest();
    if (error) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
      throw new Error(`database migration ${failed} failed`, { cause: error });
    }
  }

  /** A cached prepared statement for raw SQL (hot paths only; everything else goes through kysely). */
  prepare(source: string): BetterSqlite3.Statement {
    let stmt = this.statements.get(source);
    if (!stmt) {
      stmt = this.sqlite.prepare(source);
      this.statements.set(source, stmt);
    }
    return stmt;
  }

  /** All rows of a kysely query. */
  all<Q extends Compilable<any>>(query: Q): InferResult<Q> {
    const { sql, parameters } = query.compile();
    return this.prepare(sql).all(...(parameters as unknown[])) as InferResult<Q>;
  }

  /** The first row of a kysely query, or undefined. */
  first<Q extends Compilable<any>>(query: Q): InferResult<Q>[number] | undefined {
    const { sql, parameters } = query.compile();
    return this.prepare(sql).get(...(parameters as unknown[])) as InferResult<Q>[number] | undefined;
  }

  /** Runs a kysely statement; returns the number of rows changed. */
  run(query: Compilable<any>): number {
    const { sql, parameters } = query.compile();
    return this.prepare(sql).run(...(parameters as unknown[])).changes;
  }

  /** Sets the WAL pages after which this connection's commits checkpoint (SQLite's default: 1,000). */
  setWalAutocheckpoint(pages: number): void {
    this.sqlite.pragma(`wal_autocheckpoint = ${Math.trunc(pages)}`);
  }

  /** Runs `fn` in one IMMEDIATE transaction: all of it commits, or none of it. */
  transaction<T>(fn: () => T): T {
    return this.sqlite.transaction(fn).immediate();
  }

  close(): void {
    if (this.sqlite.open) this.sqlite.close();
  }
}
