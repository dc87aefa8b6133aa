import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { api, runCli } from '../helpers/server-process.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { eventually, makeFederation, upload, type PeerCenter } from '../vault/peer-fixture.js';
import { TEST_ENGINE } from '../helpers/test-database.js';

// `recover` rebuilds a SQLite registry (on PostgreSQL: recover, then `db copy`; test/store/database-copy.test.ts).
const RECOVERY_NOT_ON_POSTGRES = TEST_ENGINE === 'postgres';

// A peer's copy of a signed document is framing ‖ signature ‖ bytes, and a recovery needs all
// of it: a byte changed in the signature part must fail the next audit (and be repaired), not
// pass it and then make the recovery refuse the bundle. Journal segments (the open period's
// registrations) are audited the same way.
const dir = makeTempDir();
let a: PeerCenter;
let b: PeerCenter;

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
const heldDir = (kind: string) => join(b.dataDir, 'held', 'center-a', kind);
/** Flips one byte of the signature part (after the 4-byte length) of a held framed document. */
function damageSignature(path: string): void {
  const framed = readFileSync(path);
  const signatureLength = framed.readUInt32BE(0);
  framed[4 + (signatureLength >> 1)]! ^= 0x01;
  writeFileSync(path, framed);
}

it.skipIf(RECOVERY_NOT_ON_POSTGRES)('finds a byte changed in the signature of a held bundle or journal segment, repairs the copy, and the recovery then works', async () => {
  const data = randomBytes(100_000);
  const sealedReg = await upload(a.server!.url, a.server!.adminToken, data, { category: 'agency.digitized' }, 'sealed.pdf');
  expect((await call(a, 'POST', '/v1/periods/seal')).status).toBe(201);
  const open = await call(a, 'POST', '/v1/registrations', { sha256: createHash('sha256').update('open period').digest('hex'), category: 'voluntary.individual' });
  expect(open.status).toBe(201);
  await eventually(async () => {
    const s = (await call(a, 'GET', '/v1/backup/status')).body;
    return s.blobs.belowMinimum === 0 && s.periods.belowMinimum === 0 && s.peers[0].pending === 0 && s.unsealed.atPeers[0].registrations === 1 ? s : undefined;
  }, 'every copy at center-b');
  const clean = (await call(a, 'POST', '/v1/backup/audit?all=1')).body;
  expect(clean.peerCopies).toMatchObject({ failed: 0 });
  expect(clean.peerCopies.checked).toBeGreaterThanOrEqual(3); // the blob, the bundle and the journal segment

  const [segment] = readdirSync(heldDir('journal'));
  damageSignature(join(heldDir('periods'), '1.bundle'));
  damageSignature(join(heldDir('journal'), segment!));
  const audit = (await call(a, 'POST', '/v1/backup/audit?all=1')).body;
  expect(audit.peerCopies).toMatchObject({ failed: 2 });
  const alarms = (await call(a, 'GET', '/v1/alarms')).body.alarms.filter((x: any) => x.kind === 'audit-failed').map((x: any) => x.subject).sort();
  expect(alarms).toEqual([`journal ${segment!.replace('_', ':').replace('.segment', '')} @ center-b`, 'period 1 @ center-b']);
  // Sent again, whole: the next audit finds both copies good and the alarms clear.
  await eventually(async () => ((await call(a, 'GET', '/v1/backup/status')).body.peers[0].damagedOrMissing === 0 ? true : undefined), 'the copies sent again');
  expect((await call(a, 'POST', '/v1/backup/audit?all=1')).body.peerCopies).toMatchObject({ failed: 0 });
  expect((await call(a, 'GET', '/v1/alarms')).body.alarms.filter((x: any) => x.kind === 'audit-failed')).toEqual([]);

  // The disaster: the peer's repaired copies bring everything back.
  const keyFile = join(dir.path, 'master-key.txt');
  expect((await runCli(['keys', 'export-master', '--out', keyFile], { ARCHIVE_SEAL_DATA_DIR: a.dataDir })).code).toBe(0);
  await a.stop();
  rmSync(a.dataDir, { recursive: true, force: true });
  const recovered = await runCli(['recover', '--from-peer', b.peerUrl, '--data-dir', a.dataDir, '--master-key', keyFile], a.env);
  expect(recovered.stderr).not.toMatch(/CMS_|BUNDLE_INVALID/);
  expect(recovered.code).toBe(0);
  expect(recovered.stdout).toMatch(/^recovered 1 sealed periods and 1 registrations from /m);
  expect(recovered.stdout).toMatch(/^recovered 1 registrations of the period not yet sealed/m);
  expect(recovered.stdout).toMatch(/^originals: 1 restored and checked$/m);
  await a.start();
  for (const id of [sealedReg.id, open.body.id]) expect((await call(a, 'GET', `/v1/registrations/${id}`)).status).toBe(200);
}, 180_000);
