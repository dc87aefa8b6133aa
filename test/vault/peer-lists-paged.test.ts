import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEVELOPMENT_CERTS_DIR } from '../../src/pki/dev-pki.js';
import { upsertHeldCopy } from '../../src/store/replicas-repository.js';
import { HttpsPeer } from '../../src/vault/peer-client.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { makeTestCenter, type TestCenter } from '../helpers/test-center.js';
import { freePort, makeTlsFiles, type TlsFiles } from './peer-fixture.js';

// The peer listener's lists (what this center holds for another) were one answer each, however
// many copies: a center holding a million blobs for a peer built a million-item JSON on its event
// loop. Each list is now a page (`limit`, at most 5,000; `next` → `after`), and the peer client
// reads every page: a recovery still sees everything held.
const dir = makeTempDir();
let holder: TestCenter;
let tlsA: TlsFiles;
let url: string;
let client: HttpsPeer;
const BLOBS = 2_345;
const PERIODS = 1_203; // ids 1..1203: as text, "10" sorts before "9"
const at = new Date().toISOString();
const sha = (i: number) => createHash('sha256').update(`held ${i}`).digest('hex');

beforeAll(async () => {
  tlsA = makeTlsFiles(join(dir.path, 'tls'), 'center-a');
  const tlsB = makeTlsFiles(join(dir.path, 'tls'), 'center-b');
  const port = await freePort();
  url = `https://127.0.0.1:${port}`;
  holder = await makeTestCenter({
    ARCHIVE_SEAL_CENTER_ID: 'center-b',
    ARCHIVE_SEAL_PEER_PORT: String(port),
    ARCHIVE_SEAL_TLS_CERT: tlsB.certFile,
    ARCHIVE_SEAL_TLS_KEY: tlsB.keyFile,
    ARCHIVE_SEAL_PEERS: JSON.stringify([{ id: 'center-a', url: 'https://127.0.0.1:9', fingerprint: tlsA.fingerprint }]),
    ARCHIVE_SEAL_AUDIT_INTERVAL_MS: '0',
  });
  await holder.backup.start();
  const store = holder.store;
  store.transaction(() => {
    const held = (kind: 'blob' | 'period' | 'journal' | 'certificates', object: string, complete = 1) =>
      upsertHeldCopy(store, { origin: 'center-a', kind, object, size: 10, received: 10, sha256: `s-${object}`, complete, received_at: at, updated_at: at });
    for (let i = 0; i < BLOBS; i++) held('blob', sha(i));
    held('blob', sha(-1), 0); // still arriving: not listed
    for (let id = 1; id <= PERIODS; id++) held('period', String(id));
    for (let i = 1; i <= 1_500; i++) held('journal', `${PERIODS + 1}:${i * 10 - 9}-${i * 10}`);
    for (let i = 1; i <= 1_100; i++) held('certificates', `${i * 5 - 4}-${i * 5}`);
    // Another center's copies are never listed to center-a.
    upsertHeldCopy(store, { origin: 'center-c', kind: 'blob', object: sha(99_999), size: 1, received: 1, sha256: 'x', complete: 1, received_at: at, updated_at: at });
  });
  const root = readFileSync(join(DEVELOPMENT_CERTS_DIR, 'root-ca.pem'), 'utf8');
  client = new HttpsPeer({ id: 'center-b', url, fingerprint: tlsB.fingerprint }, { cert: tlsA.cert, key: tlsA.key, ca: [root], fingerprint: tlsA.fingerprint, subject: 'CN=center-a' });
}, 60_000);
afterAll(async () => {
  client?.close();
  await holder?.destroy();
  dir.remove();
});

/** A GET on the peer listener as center-a, without the client: status and JSON. */
function get(path: string): Promise<{ status: number; body: any }> {
  const root = readFileSync(join(DEVELOPMENT_CERTS_DIR, 'root-ca.pem'), 'utf8');
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { cert: tlsA.cert, key: tlsA.key, ca: [root], checkServerIdentity: () => undefined }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', reject);
    req.end();
  });
}

it('answers a page at a time: limit, next, after', async () => {
  const first = await get('/v1/peer/blobs?limit=100');
  expect(first.status).toBe(200);
  expect(first.body.blobs).toHaveLength(100);
  expect(first.body.next).toBe(first.body.blobs[99].sha256);
  const second = await get(`/v1/peer/blobs?limit=100&after=${first.body.next}`);
  expect(second.body.blobs[0].sha256 > first.body.next).toBe(true);
  // Without a limit: the default page, not everything.
  const plain = await get('/v1/peer/blobs');
  expect(plain.body.blobs).toHaveLength(1000);
  expect(typeof plain.body.next).toBe('string');
  // The last page says so.
  const last = await get(`/v1/peer/blobs?limit=5000`);
  expect(last.body.blobs).toHaveLength(BLOBS);
  expect(last.body.next).toBeNull();
});

it('refuses a page larger than 5,000 or a malformed limit (400 INVALID_REQUEST)', async () => {
  for (const query of ['limit=5001', 'limit=0', 'limit=abc', 'limit=-1', 'after=']) {
    const res = await get(`/v1/peer/periods?${query}`);
    expect([query, res.status, res.body.error?.code]).toEqual([query, 400, 'INVALID_REQUEST']);
  }
});

it('lets the peer client read every page: each held copy once, none of another center, none still arriving', async () => {
  const blobs = await client.listBlobs();
  expect(blobs.map((b) => b.sha256).sort()).toEqual(Array.from({ length: BLOBS }, (_, i) => sha(i)).sort());
  const bundles = await client.listBundles();
  expect(bundles.map((b) => b.periodId)).toEqual(Array.from({ length: PERIODS }, (_, i) => i + 1));
  const journals = await client.listJournals();
  expect(new Set(journals.map((j) => j.key)).size).toBe(1_500);
  const certificates = await client.listDocuments('certificates');
  expect(new Set(certificates.map((c) => c.key)).size).toBe(1_100);
  expect(await client.listDocuments('chain')).toEqual([]);
});
