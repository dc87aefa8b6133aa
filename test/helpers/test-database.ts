import { createHash } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { Store } from '../../src/store/store.js';

/**
 * Which engine the tests' centers run on: SQLite (the default) or, with
 * ARCHIVE_SEAL_TEST_ENGINE=postgres, the PostgreSQL server at ARCHIVE_SEAL_TEST_POSTGRES_URL
 * (a maintenance database URL; `.ci/run` starts a throw-away cluster and sets both).
 */
export const TEST_ENGINE: 'sqlite' | 'postgres' = process.env.ARCHIVE_SEAL_TEST_ENGINE === 'postgres' ? 'postgres' : 'sqlite';

function adminUrl(): string {
  const url = process.env.ARCHIVE_SEAL_TEST_POSTGRES_URL;
  if (!url) throw new Error('ARCHIVE_SEAL_TEST_ENGINE=postgres needs ARCHIVE_SEAL_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres)');
  return url;
}

/** Runs `sql` on the maintenance database. */
async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * The PostgreSQL database of the center whose data directory is `dataDir` (made empty the first
 * time it is asked for, the same one after: a center restarted on its directory finds its
 * registry), or undefined when the tests run on SQLite.
 */
export async function testDatabaseUrlFor(dataDir: string): Promise<string | undefined> {
  if (TEST_ENGINE !== 'postgres') return undefined;
  try {
    await admin(`CREATE DATABASE ${databaseName(dataDir)}`);
  } catch (err) {
    if ((err as { code?: string }).code !== '42P04') throw err; // 42P04: it exists already
  }
  return urlOf(dataDir);
}

function databaseName(dataDir: string): string {
  return `t_${createHash('sha256').update(dataDir).digest('hex').slice(0, 24)}`;
}

function urlOf(dataDir: string): string {
  const url = new URL(adminUrl());
  url.pathname = `/${databaseName(dataDir)}`;
  return url.toString();
}

/**
 * Another connection to the registry of the center in `dataDir` (its SQLite file, or its
 * PostgreSQL database), for a test that looks at the stored rows: `prepare(sql)` with `?`
 * placeholders runs on either engine.
 */
export function openCenterStore(dataDir: string, options: { readonly?: boolean } = {}): Store {
  const file = join(dataDir, 'archive-seal.sqlite');
  if (TEST_ENGINE === 'postgres') return Store.openConnection({ file, url: urlOf(dataDir) });
  return Store.openConnection({ file, readonly: options.readonly ?? false });
}

/** Drops the database of `dataDir` (when the tests run on PostgreSQL). */
export async function dropTestDatabase(dataDir: string): Promise<void> {
  if (TEST_ENGINE !== 'postgres') return;
  await admin(`DROP DATABASE IF EXISTS ${databaseName(dataDir)} WITH (FORCE)`);
}

/** The settings that put a center built on `dataDir` on the tests' engine (its database made if need be). */
export async function testDatabaseEnv(dataDir: string): Promise<Record<string, string>> {
  const url = await testDatabaseUrlFor(dataDir);
  return url === undefined ? {} : { ARCHIVE_SEAL_DATABASE_URL: url };
}

/**
 * For a CLI run by a test on PostgreSQL: the database of the center the command names (its
 * `--data-dir`, else ARCHIVE_SEAL_DATA_DIR), when that center was made by the tests.
 */
export async function testDatabaseEnvForCli(args: readonly string[], env: Readonly<Record<string, string | undefined>>): Promise<Record<string, string>> {
  if (TEST_ENGINE !== 'postgres' || env.ARCHIVE_SEAL_DATABASE_URL !== undefined) return {};
  const i = args.indexOf('--data-dir');
  const dataDir = i >= 0 ? args[i + 1] : env.ARCHIVE_SEAL_DATA_DIR;
  if (dataDir === undefined) return {};
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    const exists = (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [databaseName(dataDir)])).rowCount === 1;
    return exists ? { ARCHIVE_SEAL_DATABASE_URL: urlOf(dataDir) } : {};
  } finally {
    await client.end();
  }
}
