import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { buildCenter, type Center } from '../../src/server.js';
import { makeTestCenter, type TestCenter } from '../helpers/test-center.js';
import { testDatabaseEnv } from '../helpers/test-database.js';

// kill -9 between a blob's rename into the vault and the insert of its row leaves a file under
// its digest's name that no row names (the orphan-blobs test covers a row no registration names).
// The start-up cleanup removes such files, and so does an audit of a running center; a file
// with a row, registered or not yet, stays.
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let first: TestCenter;
let restarted: Center | undefined;
const registered = randomBytes(40_000);
let registeredId: number;
const atStart = [randomBytes(30_000), randomBytes(31_000)];

/** What the kill leaves: the encrypted file renamed into place, its row never written. */
async function fileWithoutRow(center: Center, content: Buffer): Promise<string> {
  const vault = center.backup.vault;
  await vault.ingest(Readable.from([content]), { maxBytes: 1 << 20 });
  const path = vault.pathOf(sha(content));
  copyFileSync(path, `${path}.kept`);
  await vault.delete(sha(content));
  mkdirSync(dirname(path), { recursive: true });
  copyFileSync(`${path}.kept`, path);
  rmSync(`${path}.kept`);
  expect(vault.rowOf(sha(content))).toBeUndefined();
  expect(existsSync(path)).toBe(true);
  return path;
}

beforeAll(async () => {
  first = await makeTestCenter();
  const fd = new FormData();
  fd.append('category', 'agency.documents');
  fd.append('file', new Blob([new Uint8Array(registered)]), 'kept.pdf');
  const res = await first.request('POST', '/v1/registrations', { token: first.adminToken, body: fd });
  expect(res.status).toBe(201);
  registeredId = res.body.id;
  for (const content of atStart) await fileWithoutRow(first, content);
  await first.close(); // the data directory stays: start again over it
  const config = loadConfig({ ARCHIVE_SEAL_DATA_DIR: first.dataDir, ARCHIVE_SEAL_SEAL_SCHEDULE: 'off', ARCHIVE_SEAL_CHAINS: 'none', ...(await testDatabaseEnv(first.dataDir)) });
  const logs: string[] = [];
  restarted = await buildCenter(config, (line) => logs.push(line));
  (restarted as Center & { logs?: string[] }).logs = logs;
});
afterAll(async () => {
  await restarted?.close();
  rmSync(first.dataDir, { recursive: true, force: true });
});

const vaultFiles = (center: Center) =>
  readdirSync(join(center.backup.vault.root, 'sha256'), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name)
    .sort();

it('removes at start the vault files no row names, records each as a deletion, and keeps the registered blob', async () => {
  const center = restarted!;
  expect(vaultFiles(center)).toEqual([sha(registered)]);
  const events = center.store.prepare("SELECT object_id, outcome, detail FROM preservation_event WHERE event_type = 'deletion' ORDER BY object_id").all() as any[];
  expect(events.map((e) => e.object_id)).toEqual(atStart.map(sha).sort());
  expect(events[0].detail).toMatch(/with no vault record: a crash or kill came between its move into place and its record.*removed by the start-up cleanup$/);
  expect((center as Center & { logs: string[] }).logs).toContain("removed 2 vault file(s) with no vault record (a kill between a blob's move into place and its record)");
});

it('an audit of the running center removes such a file too; a blob with a row and no registration yet stays', async () => {
  const center = restarted!;
  const path = await fileWithoutRow(center, randomBytes(25_000));
  // A blob whose registration might still commit: its row is there, so it is not the audit's.
  const inFlight = randomBytes(26_000);
  await center.backup.vault.ingest(Readable.from([inFlight]), { maxBytes: 1 << 20 });
  const summary = await center.backup.audit({ all: true });
  expect(summary.localBlobs.filesWithoutRowRemoved).toBe(1);
  expect(existsSync(path)).toBe(false);
  expect(vaultFiles(center)).toEqual([sha(registered), sha(inFlight)].sort());
  expect(center.backup.vault.rowOf(sha(inFlight))).toMatchObject({ status: 'ok' });
  const again = await center.backup.audit({ all: true });
  expect(again.localBlobs.filesWithoutRowRemoved).toBe(0);
  const token = (await import('node:fs')).readFileSync(`${first.dataDir}/admin-token.txt`, 'utf8').trim();
  const res = await center.app.request(`/v1/registrations/${registeredId}/file`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  expect(Buffer.from(await res.arrayBuffer()).equals(registered)).toBe(true);
});
