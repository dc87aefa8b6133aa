import { createHash, randomBytes } from 'node:crypto';
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, runCli } from '../helpers/server-process.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { eventually, makeFederation, upload, type PeerCenter } from '../vault/peer-fixture.js';
import { TEST_ENGINE } from '../helpers/test-database.js';

// Every file and directory the center writes is private to its user (0600 / 0700), whatever the
// umask (issue 17, item 7): archive-seal.sqlite and its -wal/-shm were 0644 in a 0755 data
// directory, so any local user read pseudonymous registrants' real names and the pseudonym key.
// Two real centers started under umask 022 (the common default), one on the embedded chain, that
// register, seal, anchor, replicate (the peer's held/ tree) and export; then every entry under
// both data directories and the exports is walked.
const dir = makeTempDir();
let a: PeerCenter;
let b: PeerCenter;
let umask: number;

beforeAll(async () => {
  umask = process.umask(0o022); // the servers and CLIs this test starts inherit it
  const federation = await makeFederation(dir.path, ['center-a', 'center-b'], { ARCHIVE_SEAL_CHAINS: 'local' });
  a = federation[0]!;
  b = federation[1]!;
  await Promise.all([a.start(), b.start()]);
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  process.umask(umask);
  dir.remove();
});

/** Every path under `root` (itself included) whose mode gives group or others any access. */
function openToOthers(root: string): string[] {
  const found: string[] = [];
  const visit = (path: string) => {
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) return;
    if ((stat.mode & 0o077) !== 0) found.push(`${path} ${(stat.mode & 0o777).toString(8)}`);
    if (stat.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  visit(root);
  return found;
}

function count(root: string): number {
  let n = 0;
  const visit = (path: string) => {
    n++;
    if (lstatSync(path).isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  visit(root);
  return n;
}

describe('files the center writes', () => {
  it('are 0600 and directories 0700 under umask 022: database, WAL, SHM, blobs, chain state, keys, held copies, exports', async () => {
    const admin = a.server!.adminToken;
    // A pseudonymous registrant: what the database must not show other users.
    const citizen = await api(a.server!.url, admin, 'POST', '/v1/tokens', { name: '李四', role: 'depositor', pseudonymous: true });
    await upload(a.server!.url, citizen.body.token, randomBytes(200_000), { category: 'voluntary.individual' }, '遗嘱.pdf');
    await upload(a.server!.url, admin, randomBytes(50_000), { category: 'agency.digitized' }, 'scan.pdf');
    await api(a.server!.url, admin, 'POST', '/v1/registrations', { sha256: createHash('sha256').update('hash only').digest('hex'), category: 'voluntary.individual' });
    expect((await api(a.server!.url, admin, 'POST', '/v1/periods/seal')).status).toBe(201);
    // Registrations of the next, open period go to the peer as journal segments.
    await upload(a.server!.url, admin, randomBytes(10_000), { category: 'agency.digitized' }, 'later.pdf');
    await eventually(async () => ((await api(a.server!.url, undefined, 'GET', '/v1/periods/1')).body.anchored ? true : undefined), 'period 1 anchored');
    await eventually(async () => {
      const s = (await api(a.server!.url, admin, 'GET', '/v1/backup/status')).body;
      return s.blobs.belowMinimum === 0 && s.periods.belowMinimum === 0 && s.peers.every((p: any) => p.pending === 0) ? s : undefined;
    }, 'every copy at center-b');

    // Exports and key copies an operator makes with the CLI.
    const exported = join(dir.path, 'exports', 'bag-1');
    const bag = await runCli(['export', '--bag', exported, '--period', '1', '--data-dir', a.dataDir]);
    expect(bag.code, bag.stderr).toBe(0);
    const keyCopy = join(dir.path, 'exports', 'master-key.txt');
    const key = await runCli(['keys', 'export-master', '--out', keyCopy, '--data-dir', a.dataDir]);
    expect(key.code, key.stderr).toBe(0);
    const certificateFile = join(dir.path, 'exports', 'certificate.json');
    const certificate = await runCli(['certificate', '1', '--out', certificateFile], { ARCHIVE_SEAL_SERVER: a.server!.url, ARCHIVE_SEAL_TOKEN: admin });
    expect(certificate.code, certificate.stderr).toBe(0);

    // While they run (the WAL and SHM exist), and once they have stopped (the chain's state dumped).
    const names = (p: string) => readdirSync(p);
    const database = TEST_ENGINE === 'sqlite' ? ['archive-seal.sqlite', 'archive-seal.sqlite-wal', 'archive-seal.sqlite-shm'] : [];
    expect(names(a.dataDir)).toEqual(expect.arrayContaining([...database, 'blobs', 'chain', 'master.key', 'admin-token.txt']));
    expect(names(join(b.dataDir, 'held', 'center-a'))).toEqual(expect.arrayContaining(['blobs']));
    for (const root of [a.dataDir, b.dataDir, join(dir.path, 'exports')]) expect(openToOthers(root), root).toEqual([]);
    await Promise.all([a.stop(), b.stop()]);
    expect(names(join(a.dataDir, 'chain'))).toEqual(expect.arrayContaining(['anvil-state.json', 'anvil-state.json.good', 'deployment.json', 'center-key.hex']));
    for (const root of [a.dataDir, b.dataDir]) expect(openToOthers(root), root).toEqual([]);
    expect(count(join(b.dataDir, 'held'))).toBeGreaterThan(5);
  });
});

// The SQLite file's modes (a center on PostgreSQL has none in its data directory).
describe.skipIf(TEST_ENGINE === 'postgres')('a center built in-process (no umask of its own) and one made by an earlier version', () => {
  it('gives its files private modes itself, and makes an existing 0755 data directory and 0644 database private at start', async () => {
    const { makeTestCenter } = await import('../helpers/test-center.js');
    const { chmodSync } = await import('node:fs');
    const previous = process.umask(0o022);
    let center: Awaited<ReturnType<typeof makeTestCenter>> | undefined;
    try {
      center = await makeTestCenter();
      const res = await center.request('POST', '/v1/registrations', { token: center.adminToken, json: { sha256: createHash('sha256').update('x').digest('hex'), category: 'voluntary.individual' } });
      expect(res.status).toBe(201);
      expect(openToOthers(center.dataDir)).toEqual([]);

      // What an earlier version left: everything readable by others.
      const dataDir = center.dataDir;
      await center.close();
      chmodSync(dataDir, 0o755);
      for (const name of readdirSync(dataDir)) {
        const path = join(dataDir, name);
        chmodSync(path, lstatSync(path).isDirectory() ? 0o755 : 0o644);
      }
      const { loadConfig } = await import('../../src/config.js');
      const { buildCenter } = await import('../../src/server.js');
      const again = await buildCenter(loadConfig({ ARCHIVE_SEAL_DATA_DIR: dataDir, ARCHIVE_SEAL_SEAL_SCHEDULE: 'off', ARCHIVE_SEAL_CHAINS: 'none' }), () => {});
      try {
        const top = [dataDir, ...['archive-seal.sqlite', 'archive-seal.sqlite-wal', 'archive-seal.sqlite-shm'].map((n) => join(dataDir, n))];
        expect(top.filter((p) => (lstatSync(p).mode & 0o077) !== 0)).toEqual([]);
      } finally {
        await again.close();
      }
    } finally {
      process.umask(previous);
      await center?.destroy();
    }
  });
});
