import { createHash } from 'node:crypto';
import pg from 'pg';

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
  const name = `t_${createHash('sha256').update(dataDir).digest('hex').slice(0, 24)}`;
  try {
    await admin(`CREATE DATABASE ${name}`);
  } catch (err) {
    if ((err as { code?: string }).code !== '42P04') throw err; // 42P04: it exists already
  }
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops the database of `dataDir` (when the tests run on PostgreSQL). */
export async function dropTestDatabase(dataDir: string): Promise<void> {
  if (TEST_ENGINE !== 'postgres') return;
  const name = `t_${createHash('sha256').update(dataDir).digest('hex').slice(0, 24)}`;
  await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}
