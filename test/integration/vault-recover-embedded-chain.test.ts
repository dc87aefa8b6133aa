import { randomBytes } from 'node:crypto';
import { existsSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { api, runCli } from '../helpers/server-process.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { eventually, makeFederation, upload, type PeerCenter } from '../vault/peer-fixture.js';
import { TEST_ENGINE } from '../helpers/test-database.js';

// `recover` rebuilds a SQLite registry (on PostgreSQL: recover, then `db copy`; test/store/database-copy.test.ts).
const RECOVERY_NOT_ON_POSTGRES = TEST_ENGINE === 'postgres';

// A center anchoring on its embedded chain (whose state lives in its data directory) loses that
// directory. The recovery brings the chain's state back with the registry, so the contract and
// the anchors are the ones the certificates name, and it brings back every issued certificate
// under its public link: a certificate handed out before the disaster still verifies against
// the chain's RPC, and its link still answers.
const dir = makeTempDir();
let a: PeerCenter;
let b: PeerCenter;

beforeAll(async () => {
  const federation = await makeFederation(dir.path, ['center-a', 'center-b']);
  a = federation[0]!;
  b = federation[1]!;
  a.env.ARCHIVE_SEAL_CHAINS = 'local';
  await Promise.all([a.start(), b.start()]);
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  dir.remove();
});

const call = (c: PeerCenter, method: string, path: string, body?: unknown) => api(c.server!.url, c.server!.adminToken, method, path, body);

it.skipIf(RECOVERY_NOT_ON_POSTGRES)('recovers the embedded chain and the certificates: an old certificate verifies with the chain\'s RPC and its link answers', async () => {
  const data = randomBytes(80_000);
  const reg = await upload(a.server!.url, a.server!.adminToken, data, { category: 'livelihood.marriage' }, '婚姻登记表.pdf');
  expect((await call(a, 'POST', '/v1/periods/seal')).status).toBe(201);
  await eventually(async () => ((await call(a, 'GET', '/v1/periods/1')).body.anchored ? true : undefined), 'period 1 anchored', 60_000);
  const anchoredAt = Date.now();
  const res = await fetch(`${a.server!.url}/v1/registrations/${reg.id}/certificate`, { headers: { authorization: `Bearer ${a.server!.adminToken}` } });
  expect(res.status).toBe(200);
  const link = res.headers.get('content-location')!;
  expect(link).toMatch(/^\/v1\/certificates\/[A-Za-z0-9_-]{22}$/);
  const certificate = await res.json();
  const chainsBefore = (await call(a, 'GET', '/v1/chains')).body.chains;
  expect(chainsBefore).toHaveLength(1);
  const certFile = join(dir.path, 'certificate.json');
  const file = join(dir.path, 'original.pdf');
  writeFileSync(certFile, JSON.stringify(certificate));
  writeFileSync(file, data);
  // Everything a recovery needs is at the peer: the chain's state (with the anchor's block) and the certificate.
  const held = join(b.dataDir, 'held', 'center-a');
  await eventually(async () => {
    const s = (await call(a, 'GET', '/v1/backup/status')).body;
    const ready = s.peers[0].pending === 0 && s.blobs.belowMinimum === 0 && s.periods.belowMinimum === 0;
    // A copy of the chain's state made after the anchor was confirmed: the center sends one only
    // once anvil's state file holds every confirmed anchor's block (dumped each second), so an
    // earlier copy (the deployment's) may still be the only one when nothing is pending.
    const state = join(held, 'chains', 'local.state');
    return ready && existsSync(state) && statSync(state).mtimeMs > anchoredAt && existsSync(join(held, 'certificates')) ? true : undefined;
  }, 'the chain state and the certificate at center-b', 60_000);
  const audit = (await call(a, 'POST', '/v1/backup/audit?all=1')).body;
  expect(audit.peerCopies).toMatchObject({ failed: 0 });
  const events = (await call(a, 'GET', '/v1/backup/events?type=fixity%20check')).body.events.map((e: any) => e.object.kind);
  expect(events).toEqual(expect.arrayContaining(['chain', 'certificates']));

  const keyFile = join(dir.path, 'master-key.txt');
  expect((await runCli(['keys', 'export-master', '--out', keyFile], { ARCHIVE_SEAL_DATA_DIR: a.dataDir })).code).toBe(0);
  await a.stop();
  rmSync(a.dataDir, { recursive: true, force: true });
  const recovered = await runCli(['recover', '--from-peer', b.peerUrl, '--data-dir', a.dataDir, '--master-key', keyFile], a.env);
  expect(recovered.code).toBe(0);
  expect(recovered.stdout).toMatch(/^recovered 1 issued certificates, under their public links$/m);
  expect(recovered.stdout).toMatch(/^recovered the embedded chain's state \(block \d+\)/m);
  expect(statSync(join(a.dataDir, 'chain', 'center-key.hex')).mode & 0o777).toBe(0o600);

  await a.start();
  // The same contract, the same anchor: nothing is anchored again on a new chain.
  const chainsAfter = (await call(a, 'GET', '/v1/chains')).body.chains;
  const { rpcUrl: _before, ...contractBefore } = chainsBefore[0];
  const { rpcUrl, ...contractAfter } = chainsAfter[0];
  expect(contractAfter).toEqual(contractBefore);
  const linked = await fetch(`${a.server!.url}${link}`);
  expect(linked.status).toBe(200);
  expect(await linked.json()).toEqual(certificate);
  const verified = await runCli(['verify', file, certFile, '--trust', join(import.meta.dirname, '..', '..', 'certs', 'dev', 'root-ca.pem'), '--allow-development', '--rpc', rpcUrl]);
  expect(verified.stdout).toMatch(/^AUTHENTIC/m);
  expect(verified.code).toBe(0);
  // Asked again, the registration's certificate is the one issued before (same link).
  const again = await fetch(`${a.server!.url}/v1/registrations/${reg.id}/certificate`, { headers: { authorization: `Bearer ${a.server!.adminToken}` } });
  expect(again.headers.get('content-location')).toBe(link);
}, 180_000);
