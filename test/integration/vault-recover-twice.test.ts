import { createHash } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { api, runCli } from '../helpers/server-process.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { eventually, makeFederation, type PeerCenter } from '../vault/peer-fixture.js';
import { TEST_ENGINE } from '../helpers/test-database.js';

// `recover` rebuilds a SQLite registry (on PostgreSQL: recover, then `db copy`; test/store/database-copy.test.ts).
const RECOVERY_NOT_ON_POSTGRES = TEST_ENGINE === 'postgres';

// A recovered center sends its open period again as a journal segment overlapping the ones the
// peer holds. The peer keeps the same registrations once, and a second recovery brings back every
// registration. A recovery from copies that lack some registrations fails and names them.
const dir = makeTempDir();
let a: PeerCenter;
let b: PeerCenter;
const keyFile = () => join(dir.path, 'master-key.txt');

beforeAll(async () => {
  const federation = await makeFederation(dir.path, ['center-a', 'center-b']);
  a = federation[0]!;
  b = federation[1]!;
  await Promise.all([a.start(), b.start()]);
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  dir.remove();
});

const call = (c: PeerCenter, method: string, path: string, body?: unknown) => api(c.server!.url, c.server!.adminToken, method, path, body);
let counter = 0;
async function registerSome(n: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const res = await call(a, 'POST', '/v1/registrations', { sha256: createHash('sha256').update(`record ${counter++}`).digest('hex'), category: 'voluntary.individual' });
    expect(res.status).toBe(201);
    ids.push(res.body.id);
  }
  return ids;
}
const journaled = (n: number) =>
  eventually(async () => ((await call(a, 'GET', '/v1/backup/status')).body.unsealed.atPeers[0].registrations === n ? true : undefined), `${n} registrations in journal segments at center-b`);
async function loseAndRecover(): Promise<{ code: number; stdout: string; stderr: string }> {
  await a.stop();
  rmSync(a.dataDir, { recursive: true, force: true });
  return runCli(['recover', '--from-peer', b.peerUrl, '--data-dir', a.dataDir, '--master-key', keyFile()], a.env);
}
/** The journal segment files the peer holds, by first registration id. */
const heldJournals = () =>
  readdirSync(join(b.dataDir, 'held', 'center-a', 'journal'))
    .filter((n) => n.endsWith('.segment'))
    .sort((x, y) => Number(/_(\d+)-/.exec(x)![1]) - Number(/_(\d+)-/.exec(y)![1]));

it.skipIf(RECOVERY_NOT_ON_POSTGRES)('recovers, takes more registrations, and recovers again with every registration back', async () => {
  const sealed = await registerSome(2);
  expect((await call(a, 'POST', '/v1/periods/seal')).status).toBe(201);
  const first = await registerSome(1);
  await journaled(1);
  first.push(...(await registerSome(2)));
  await journaled(3);
  expect(heldJournals().length).toBeGreaterThanOrEqual(2); // segments of the open period
  expect((await runCli(['keys', 'export-master', '--out', keyFile()], { ARCHIVE_SEAL_DATA_DIR: a.dataDir })).code).toBe(0);

  const once = await loseAndRecover();
  expect(once.code).toBe(0);
  expect(once.stdout).toMatch(/^recovered 3 registrations of the period not yet sealed/m);
  await a.start();
  // The restarted center sends its open period again, overlapping what the peer holds.
  const later = await registerSome(8);
  await journaled(11);
  expect((await call(a, 'GET', '/v1/alarms')).body.alarms.filter((x: any) => x.kind === 'replication-failing')).toEqual([]);

  const twice = await loseAndRecover();
  expect(twice.stderr).toBe(twice.stderr.replace(/RECOVERY_FAILED|failed/i, '')); // nothing failed
  expect(twice.code).toBe(0);
  expect(twice.stdout).toMatch(/^recovered 1 sealed periods and 2 registrations from /m);
  expect(twice.stdout).toMatch(/^recovered 11 registrations of the period not yet sealed/m);
  await a.start();
  for (const id of [...sealed, ...first, ...later]) expect((await call(a, 'GET', `/v1/registrations/${id}`)).status).toBe(200);
  expect((await call(a, 'GET', '/v1/periods/2')).body).toMatchObject({ status: 'open', leafCount: 11 });
}, 180_000);

it.skipIf(RECOVERY_NOT_ON_POSTGRES)('fails with a non-zero exit naming the registrations when the peer lacks a segment in the middle', async () => {
  await registerSome(2);
  await journaled(13);
  const segments = heldJournals();
  expect(segments.length).toBeGreaterThanOrEqual(2);
  // Lose the first segment at the peer (row and file), as a damaged disk would.
  await b.stop();
  const gone = segments[0]!.replace('_', ':').replace('.segment', '');
  const db = new Database(join(b.dataDir, 'archive-seal.sqlite'));
  db.prepare("DELETE FROM held_copy WHERE origin = 'center-a' AND kind = 'journal' AND object = ?").run(gone);
  db.close();
  rmSync(join(b.dataDir, 'held', 'center-a', 'journal', segments[0]!));
  await b.start();
  const failed = await loseAndRecover();
  expect(failed.code).toBe(1);
  expect(failed.stderr).toMatch(/period 2: the peer's journal segments lack leaves 0-\d+ of 13|registrations [\d-]+ \(\d+ of 15\) are in none of the peer's bundles or journal segments/);
  expect(failed.stderr).toMatch(/nothing was restored/);
  expect(readdirSync(a.dataDir).filter((n) => n.startsWith('archive-seal.sqlite'))).toEqual([]);
}, 180_000);
