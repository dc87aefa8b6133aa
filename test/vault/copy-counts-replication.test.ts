import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeTempDir } from '../helpers/temp-dir.js';
import { makeTestCenter, type TestCenter } from '../helpers/test-center.js';
import { eventually, freePort, makeTlsFiles } from './peer-fixture.js';

// The backup status's counts are kept with every change (issue 17): here two centers in this
// process back each other up over real mutual TLS, and after each step (replicate, a damaged
// copy at the peer found by an audit and sent again, a damaged local copy restored from the
// peer, the peer gone) the status must say what counting every row says.
const dir = makeTempDir();
let a: TestCenter;
let b: TestCenter | undefined;
const shas: string[] = [];

beforeAll(async () => {
  const ids = ['center-a', 'center-b'];
  const nodes = await Promise.all(ids.map(async (id) => ({ id, tls: makeTlsFiles(join(dir.path, 'tls'), id), port: await freePort() })));
  const envOf = (n: (typeof nodes)[number]) => ({
    ARCHIVE_SEAL_CENTER_ID: n.id,
    ARCHIVE_SEAL_PEER_PORT: String(n.port),
    ARCHIVE_SEAL_TLS_CERT: n.tls.certFile,
    ARCHIVE_SEAL_TLS_KEY: n.tls.keyFile,
    ARCHIVE_SEAL_PEERS: JSON.stringify(nodes.filter((o) => o.id !== n.id).map((o) => ({ id: o.id, url: `https://127.0.0.1:${o.port}`, fingerprint: o.tls.fingerprint }))),
    ARCHIVE_SEAL_REPLICATION_POLL_MS: '200',
    ARCHIVE_SEAL_REPLICATION_MAX_BACKOFF_MS: '1000',
    ARCHIVE_SEAL_AUDIT_INTERVAL_MS: '0',
  });
  a = await makeTestCenter(envOf(nodes[0]!));
  b = await makeTestCenter(envOf(nodes[1]!));
  // The peer listeners and the replicators (what `serve` starts besides the API).
  await Promise.all([a.backup.start(), b.backup.start()]);
  for (let i = 0; i < 3; i++) {
    const fd = new FormData();
    fd.append('category', 'agency.documents');
    fd.append('file', new Blob([new Uint8Array(randomBytes(40_000 + i))]), `page-${i}.pdf`);
    const res = await a.request('POST', '/v1/registrations', { token: a.adminToken, body: fd });
    expect(res.status).toBe(201);
    shas.push(res.body.digests.sha256);
  }
  expect((await a.request('POST', '/v1/periods/seal', { token: a.adminToken })).status).toBe(201);
}, 60_000);
afterAll(async () => {
  await a?.destroy();
  await b?.destroy();
  dir.remove();
});

const status = async (query = '') => (await a.request('GET', `/v1/backup/status${query}`, { token: a.adminToken })).body;

/** The status's totals and below-minimum list, against counting every row (the query the status ran before). */
async function expectCountsAsScanned(): Promise<any> {
  const scan = (kind: 'blob' | 'period') => {
    const rows =
      kind === 'blob'
        ? (a.store.prepare("SELECT sha256, CASE WHEN status = 'ok' THEN 1 ELSE 0 END AS local FROM vault_blob").all() as { sha256: Buffer; local: number }[]).map((b) => ({ id: b.sha256.toString('hex'), local: b.local }))
        : (a.store.prepare("SELECT CAST(id AS TEXT) AS id, 1 AS local FROM period WHERE status = 'sealed'").all() as { id: string; local: number }[]);
    const remote = a.store.prepare("SELECT count(*) FROM replica WHERE kind = ? AND object = ? AND status = 'verified' AND coalesce(audit_outcome, '') != 'unreachable'").pluck();
    return rows.map((r) => ({ id: r.id, copies: r.local + (remote.get(kind, r.id) as number) }));
  };
  const blobs = scan('blob');
  const periods = scan('period');
  const s = await status('?belowMinimum=1&limit=1000');
  expect({ blobs: s.blobs, periods: s.periods }).toEqual({
    blobs: { total: blobs.length, belowMinimum: blobs.filter((x) => x.copies < 2).length },
    periods: { total: periods.length, belowMinimum: periods.filter((x) => x.copies < 2).length },
  });
  expect(s.items.map((i: any) => `${i.kind} ${i.id} ${i.verifiedCopies}`).sort()).toEqual(
    [...blobs.filter((x) => x.copies < 2).map((x) => `blob ${x.id} ${x.copies}`), ...periods.filter((x) => x.copies < 2).map((x) => `period ${x.id} ${x.copies}`)].sort(),
  );
  return s;
}

const allVerified = async () => {
  const s = await status();
  return s.blobs.belowMinimum === 0 && s.periods.belowMinimum === 0 && s.peers.every((p: any) => p.pending === 0 && p.damagedOrMissing === 0) ? s : undefined;
};

it('counts each copy once the peer confirms it', async () => {
  await eventually(allVerified, 'every copy at center-b verified');
  const s = await expectCountsAsScanned();
  expect(s).toMatchObject({ blobs: { total: 3, belowMinimum: 0 }, periods: { total: 1, belowMinimum: 0 } });
  expect(s.peers).toEqual([expect.objectContaining({ id: 'center-b', verified: 4, unreachable: 0, pending: 0, damagedOrMissing: 0 })]);
});

it('takes a copy found damaged at the peer out of the count, and counts it again once sent again', async () => {
  const held = join(b!.dataDir, 'held', 'center-a', 'blobs', shas[0]!.slice(0, 2), shas[0]!);
  const bytes = readFileSync(held);
  bytes[bytes.length >> 1]! ^= 0x20;
  writeFileSync(held, bytes);
  // The replicator may send the copy again as soon as the audit marks it: stop it meanwhile.
  await a.backup.replicator?.stop();
  const audit = await a.request('POST', '/v1/backup/audit?all=1', { token: a.adminToken });
  expect(audit.body.peerCopies).toMatchObject({ failed: 1 });
  const s = await expectCountsAsScanned();
  expect(s.blobs).toEqual({ total: 3, belowMinimum: 1 });
  expect(s.items).toEqual([expect.objectContaining({ kind: 'blob', id: shas[0], verifiedCopies: 1 })]);
  expect(s.peers[0]).toMatchObject({ verified: 3, damagedOrMissing: 1 });
  a.backup.replicator?.start();
  await eventually(allVerified, 'the damaged copy sent again');
  await expectCountsAsScanned();
});

it('takes a damaged local copy out of the count, and counts it again once restored from the peer', async () => {
  const path = a.backup.vault.pathOf(shas[1]!);
  const bytes = readFileSync(path);
  bytes[bytes.length - 40]! ^= 0x01;
  writeFileSync(path, bytes);
  const check = await a.backup.vault.checkLocal(shas[1]!);
  expect(check.ok).toBe(false);
  const s = await expectCountsAsScanned();
  expect(s.items).toEqual([expect.objectContaining({ kind: 'blob', id: shas[1], verifiedCopies: 1 })]);
  const audit = await a.request('POST', '/v1/backup/audit?all=1', { token: a.adminToken });
  expect(audit.body.localBlobs).toMatchObject({ repaired: 1 });
  await eventually(allVerified, 'the restored copy counted');
  await expectCountsAsScanned();
});

it('stops counting the copies of a peer that does not answer its challenges', async () => {
  await b!.destroy();
  b = undefined;
  const audit = await a.request('POST', '/v1/backup/audit?all=1', { token: a.adminToken });
  expect(audit.body.peerCopies.unreachable).toBeGreaterThan(0);
  const s = await expectCountsAsScanned();
  expect(s).toMatchObject({ blobs: { total: 3, belowMinimum: 3 }, periods: { total: 1, belowMinimum: 1 } });
  expect(s.peers[0]).toMatchObject({ verified: 0, unreachable: 4 });
});
