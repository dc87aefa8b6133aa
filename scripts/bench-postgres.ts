/**
 * `npm run bench -- --db postgres`: the registry's phases on PostgreSQL beside SQLite's, in one
 * run on one host, each with the limit measured in the same run and the ratio (issue 18's targets
 * are ratios: hosts here differ by 2x in speed).
 *
 *   batch       the batch route (10,000 rows a request, two in flight) on SQLite and on PostgreSQL,
 *               and the limit: raw multi-row inserts of the same rows into a table with the
 *               registration table's indexes, on each engine
 *   seal        sealing the period of those rows, on each engine
 *   single      the single route (autocannon, 10 s) on each engine, p99
 *   two         the single route through two processes on one PostgreSQL database against one
 *
 * BENCH_ROWS (default 1,000,000), BENCH_SECONDS (10). The PostgreSQL server: BENCH_DATABASE_URL (a
 * maintenance database URL; each center gets a new database), else a throw-away cluster
 * (scripts/with-postgres.mjs).
 */
import autocannon from 'autocannon';
import BetterSqlite3 from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startBenchServer, type BenchServer } from './bench-server.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const BATCH = 10_000;
const round = (n: number, digits = 0) => Math.round(n * 10 ** digits) / 10 ** digits;
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const results: Record<string, unknown> = {};

function report(name: string, value: Record<string, unknown>): void {
  results[name] = value;
  console.log(`${name}: ${JSON.stringify(value)}`);
}

const adminUrl = process.env.BENCH_DATABASE_URL ?? process.env.ARCHIVE_SEAL_TEST_POSTGRES_URL;
if (!adminUrl) {
  // Runs itself again with a throw-away cluster.
  const child = spawnSync(process.execPath, [join(import.meta.dirname, 'with-postgres.mjs'), process.execPath, '--import', 'tsx', ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(child.status ?? 1);
}

let databases = 0;
async function newDatabase(): Promise<string> {
  const name = `bench_${process.pid}_${++databases}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(adminUrl!);
  url.pathname = `/${name}`;
  return url.toString();
}

async function post(server: BenchServer, path: string, body?: string): Promise<{ status: number; text: string }> {
  const res = await fetch(server.url + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.token}`, ...(body && { 'content-type': 'application/json' }) },
    ...(body && { body }),
  });
  return { status: res.status, text: await res.text() };
}

async function batchRoute(server: BenchServer): Promise<number> {
  const batches = Math.ceil(ROWS / BATCH);
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < batches) {
      const b = next++;
      const entries = Array.from({ length: BATCH }, (_, i) => ({ sha256: sha(`batch-${b}-${i}`), category: 'agency.documents' }));
      const res = await post(server, '/v1/registrations/batch', JSON.stringify({ entries }));
      if (res.status !== 201) throw new Error(`batch ${b}: ${res.status} ${res.text.slice(0, 200)}`);
    }
  };
  await Promise.all([worker(), worker()]);
  return (batches * BATCH) / ((performance.now() - t0) / 1000);
}

async function seal(server: BenchServer): Promise<number> {
  const t0 = performance.now();
  const res = await post(server, '/v1/periods/seal');
  if (res.status !== 201) throw new Error(`seal: ${res.status} ${res.text}`);
  return (performance.now() - t0) / 1000;
}

async function singleRoute(urls: string[], token: string): Promise<{ perSecond: number; p99ms: number; non2xx: number; statuses: Record<string, number> }> {
  let n = 0;
  const runs = await Promise.all(
    urls.map(
      (url) =>
        new Promise<autocannon.Result>((resolve, reject) => {
          autocannon(
            {
              url: `${url}/v1/registrations`,
              connections: Math.max(2, Math.round(16 / urls.length)),
              duration: SECONDS,
              method: 'POST',
              headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
              requests: [{ setupRequest: (req) => ({ ...req, body: JSON.stringify({ sha256: sha(`single-${process.pid}-${n++}-${Math.random()}`), category: 'voluntary.individual' }) }) }],
            },
            (err, result) => (err ? reject(err) : resolve(result)),
          );
        }),
    ),
  );
  // Answers other than 201 (a full waiting queue's 503, say) are counted, not taken for registrations.
  const non2xx = runs.reduce((a, r) => a + r.non2xx, 0);
  const statuses: Record<string, number> = {};
  for (const r of runs) for (const [code, n] of Object.entries(r.statusCodeStats ?? {})) statuses[code] = (statuses[code] ?? 0) + (n as { count: number }).count;
  const ok = runs.reduce((a, r) => a + r['2xx'], 0);
  return { perSecond: round(ok / SECONDS), p99ms: Math.max(...runs.map((r) => r.latency.p99)), non2xx, statuses };
}

/** Rows of the registration table's shape, as the writer makes them (a record of ~300 bytes). */
function rawRows(count: number, offset: number) {
  return Array.from({ length: count }, (_, i) => {
    const id = offset + i + 1;
    return {
      id,
      period_id: 1,
      leaf_index: id - 1,
      registrant_id: 1,
      sha256: randomBytes(32),
      sha256_key: Number.parseInt(randomBytes(6).toString('hex'), 16),
      record: JSON.stringify({ category: 'agency.documents', center: 'bench', digests: { sha256: randomBytes(32).toString('hex') }, registrationId: id, registeredAt: new Date().toISOString() }),
      record_digest: randomBytes(32),
      salt: randomBytes(32),
      leaf_hash: randomBytes(32),
      registered_at: new Date().toISOString(),
    };
  });
}

const RAW_TABLE = `(id bigint PRIMARY KEY, period_id bigint NOT NULL, leaf_index bigint NOT NULL, registrant_id bigint NOT NULL, sha256 BYTEA_TYPE NOT NULL,
  sha256_key bigint NOT NULL, record text NOT NULL, record_digest BYTEA_TYPE NOT NULL, salt BYTEA_TYPE NOT NULL, leaf_hash BYTEA_TYPE NOT NULL, registered_at text NOT NULL)`;
const RAW_INDEXES = [
  'CREATE UNIQUE INDEX raw_period_leaf ON raw (period_id, leaf_index)',
  'CREATE INDEX raw_registrant_key ON raw (registrant_id, sha256_key)',
  'CREATE INDEX raw_period_leaf_hash ON raw (period_id, leaf_index, leaf_hash)',
  'CREATE INDEX raw_key ON raw (sha256_key)',
  'CREATE INDEX raw_registrant ON raw (registrant_id)',
];

/** The limit: multi-row inserts (10,000 rows a transaction) straight into PostgreSQL, the same indexes. */
async function rawPostgres(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`CREATE TABLE raw ${RAW_TABLE.replaceAll('BYTEA_TYPE', 'bytea')}`);
  for (const i of RAW_INDEXES) await client.query(i);
  let seconds = 0;
  for (let offset = 0; offset < ROWS; offset += BATCH) {
    const rows = rawRows(BATCH, offset);
    const t0 = performance.now();
    await client.query(
      'INSERT INTO raw SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bytea[], $6::bigint[], $7::text[], $8::bytea[], $9::bytea[], $10::bytea[], $11::text[])',
      (['id', 'period_id', 'leaf_index', 'registrant_id', 'sha256', 'sha256_key', 'record', 'record_digest', 'salt', 'leaf_hash', 'registered_at'] as const).map((k) => rows.map((r) => r[k])),
    );
    seconds += (performance.now() - t0) / 1000;
  }
  await client.end();
  return ROWS / seconds;
}

/** The limit on SQLite: prepared inserts, 10,000 rows a transaction, WAL, synchronous=FULL, the same indexes. */
function rawSqlite(dir: string): number {
  const db = new BetterSqlite3(join(dir, 'raw.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE raw ${RAW_TABLE.replaceAll('BYTEA_TYPE', 'blob').replace('bigint PRIMARY KEY', 'INTEGER PRIMARY KEY')}`);
  for (const i of RAW_INDEXES) db.exec(i);
  const insert = db.prepare('INSERT INTO raw VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  let seconds = 0;
  for (let offset = 0; offset < ROWS; offset += BATCH) {
    const rows = rawRows(BATCH, offset);
    const t0 = performance.now();
    db.transaction(() => {
      for (const r of rows) insert.run(r.id, r.period_id, r.leaf_index, r.registrant_id, r.sha256, r.sha256_key, r.record, r.record_digest, r.salt, r.leaf_hash, r.registered_at);
    })();
    seconds += (performance.now() - t0) / 1000;
  }
  db.close();
  return ROWS / seconds;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'archive-seal-bench-pg-'));
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model}; ${ROWS} rows; PostgreSQL at ${new URL(adminUrl!).host}`);
  try {
    // Batch and seal, SQLite then PostgreSQL; the raw limits of each right after.
    const sqlite = await startBenchServer(join(dir, 'sqlite'), { ARCHIVE_SEAL_CHAINS: 'none' });
    const sqliteBatch = await batchRoute(sqlite).finally(() => {});
    const sqliteSeal = await seal(sqlite).finally(() => sqlite.stop());
    const pgUrl = await newDatabase();
    const postgres = await startBenchServer(join(dir, 'postgres'), { ARCHIVE_SEAL_CHAINS: 'none', ARCHIVE_SEAL_DATABASE_URL: pgUrl });
    const pgBatch = await batchRoute(postgres);
    const pgSeal = await seal(postgres).finally(() => postgres.stop());
    const rawPg = await rawPostgres(await newDatabase());
    const rawLite = rawSqlite(dir);
    report('batch route', {
      sqliteRowsPerSecond: round(sqliteBatch),
      postgresRowsPerSecond: round(pgBatch),
      postgresToSqlite: round(pgBatch / sqliteBatch, 2),
      rawPostgresInsertRowsPerSecond: round(rawPg),
      postgresToRawPostgres: round(pgBatch / rawPg, 2),
      rawSqliteInsertRowsPerSecond: round(rawLite),
      sqliteToRawSqlite: round(sqliteBatch / rawLite, 2),
      targets: 'postgres >= 0.7 x sqlite and >= 0.6 x raw postgres',
    });
    report('seal', { leaves: ROWS, sqliteSeconds: round(sqliteSeal, 2), postgresSeconds: round(pgSeal, 2), postgresToSqlite: round(pgSeal / sqliteSeal, 2), target: 'at most 2 x sqlite' });

    // The single route on fresh centers, then two processes on one PostgreSQL database.
    const liteFresh = await startBenchServer(join(dir, 'sqlite-single'), { ARCHIVE_SEAL_CHAINS: 'none' });
    const liteSingle = await singleRoute([liteFresh.url], liteFresh.token).finally(() => liteFresh.stop());
    const singleUrl = await newDatabase();
    const one = await startBenchServer(join(dir, 'pg-single'), { ARCHIVE_SEAL_CHAINS: 'none', ARCHIVE_SEAL_DATABASE_URL: singleUrl });
    const pgSingle = await singleRoute([one.url], one.token);
    const two = await startBenchServer(join(dir, 'pg-single'), { ARCHIVE_SEAL_CHAINS: 'none', ARCHIVE_SEAL_DATABASE_URL: singleUrl });
    const pgTwo = await singleRoute([one.url, two.url], one.token).finally(async () => {
      await two.stop();
      await one.stop();
    });
    report('single route', {
      sqlitePerSecond: liteSingle.perSecond,
      sqliteP99ms: liteSingle.p99ms,
      sqliteNon2xx: liteSingle.non2xx,
      postgresNon2xx: pgSingle.non2xx,
      statuses: { sqlite: liteSingle.statuses, postgres: pgSingle.statuses },
      postgresPerSecond: pgSingle.perSecond,
      postgresP99ms: pgSingle.p99ms,
      postgresToSqlite: round(pgSingle.perSecond / liteSingle.perSecond, 2),
      targets: 'postgres >= 0.7 x sqlite, p99 < 50 ms',
    });
    report('two processes, single route', {
      oneProcessPerSecond: pgSingle.perSecond,
      twoProcessesPerSecond: pgTwo.perSecond,
      twoToOne: round(pgTwo.perSecond / pgSingle.perSecond, 2),
      p99ms: pgTwo.p99ms,
      target: 'two >= one',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify(results, null, 2));
}

await main();
