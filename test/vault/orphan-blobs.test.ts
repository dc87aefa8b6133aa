import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { buildCenter, type Center } from '../../src/server.js';
import { ensureReplica, markReplicaVerified } from '../../src/store/replicas-repository.js';
import { makeTestCenter, type TestCenter } from '../helpers/test-center.js';
import { testDatabaseEnv } from '../helpers/test-database.js';

// kill -9 between a blob's move into place and its registration's commit leaves a vault blob no
// registration refers to. The next start removes it (file, row, replication queue) before
// replication resumes, records why, and leaves every registered blob alone.
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let first: TestCenter;
let restarted: Center | undefined;
const registered = randomBytes(40_000);
const orphan = randomBytes(30_000);
const digestOnly = randomBytes(20_000); // in the vault, but registered by its digest alone (has_file = 0)
let registeredId: number;

beforeAll(async () => {
  first = await makeTestCenter();
  const fd = new FormData();
  fd.append('category', 'agency.documents');
  fd.append('file', new Blob([new Uint8Array(registered)]), 'kept.pdf');
  const res = await first.request('POST', '/v1/registrations', { token: first.adminToken, body: fd });
  expect(res.status).toBe(201);
  registeredId = res.body.id;
  expect((await first.request('POST', '/v1/registrations', { token: first.adminToken, json: { sha256: sha(digestOnly), category: 'agency.documents' } })).status).toBe(201);
  // What the crash left: blobs stored and queued for a peer, whose registrations never committed.
  for (const content of [orphan, digestOnly]) await first.backup.vault.ingest(Readable.from([content]), { maxBytes: 1 << 20 });
  const at = new Date().toISOString();
  for (const content of [orphan, registered]) {
    ensureReplica(first.store, { kind: 'blob', object: sha(content), peer: 'center-b', now: at });
    markReplicaVerified(first.store, { kind: 'blob', object: sha(content), peer: 'center-b' }, { revision: null, confirmedHash: 'x', at });
  }
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

it('removes, at start, the blobs no registration with a file refers to, with their queue rows, and records a deletion event', async () => {
  const center = restarted!;
  const vault = center.backup.vault;
  for (const content of [orphan, digestOnly]) {
    expect(vault.rowOf(sha(content))).toBeUndefined();
    expect(existsSync(vault.pathOf(sha(content)))).toBe(false);
    expect(center.store.prepare("SELECT count(*) FROM replica WHERE kind = 'blob' AND object = ?").pluck().get(sha(content))).toBe(0);
  }
  const events = center.store.prepare("SELECT object_id, copy, outcome, detail FROM preservation_event WHERE event_type = 'deletion' ORDER BY object_id").all() as any[];
  expect(events.map((e) => e.object_id).sort()).toEqual([sha(orphan), sha(digestOnly)].sort());
  const forOrphan = events.find((e) => e.object_id === sha(orphan));
  expect(forOrphan).toMatchObject({ copy: 'local', outcome: 'success' });
  expect(forOrphan.detail).toMatch(/^no registration refers to this blob \(30000 bytes\): its upload was cut short/);
  expect(forOrphan.detail).toMatch(/peers center-b had confirmed a copy, which they keep/);
  expect((center as Center & { logs: string[] }).logs).toContain('removed 2 vault blob(s) no registration refers to (uploads cut short before their registration was committed)');
});

it('keeps every blob a registration refers to, still downloadable, with its queue rows', async () => {
  const center = restarted!;
  expect(center.backup.vault.rowOf(sha(registered))).toMatchObject({ status: 'ok' });
  expect(center.store.prepare("SELECT count(*) FROM replica WHERE kind = 'blob' AND object = ?").pluck().get(sha(registered))).toBe(1);
  const token = readFileSync(`${first.dataDir}/admin-token.txt`, 'utf8').trim();
  const res = await center.app.request(`/v1/registrations/${registeredId}/file`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  expect(Buffer.from(await res.arrayBuffer()).equals(registered)).toBe(true);
});
