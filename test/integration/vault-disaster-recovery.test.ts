import { createHash, randomBytes } from 'node:crypto';
import { renameSync, rmSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalize } from '../../src/core/canonical-json.js';
import { hexToBytes } from '../../src/core/hex.js';
import { leafHash, rootFromProof, verifyInclusionRfc9162 } from '../../src/core/merkle.js';
import { api, runCli } from '../helpers/server-process.js';
import { DEVELOPMENT_CERTS_DIR } from '../../src/pki/dev-pki.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { eventually, makeFederation, upload, type PeerCenter } from '../vault/peer-fixture.js';
import { startExternalChain, type ExternalChain } from '../helpers/external-chain.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { TEST_ENGINE } from '../helpers/test-database.js';

// `recover` rebuilds a SQLite registry (on PostgreSQL: recover, then `db copy`; test/store/database-copy.test.ts).
const RECOVERY_NOT_ON_POSTGRES = TEST_ENGINE === 'postgres';

// Center A loses its whole data directory and is rebuilt from center B's copies.
const dir = makeTempDir();
let a: PeerCenter;
let b: PeerCenter;
let chain: ExternalChain;

beforeAll(async () => {
  const federation = await makeFederation(dir.path, ['center-a', 'center-b']);
  a = federation[0]!;
  b = federation[1]!;
  // Center A anchors on a chain that survives the disaster (it is not in A's data directory).
  mkdirSync(join(dir.path, 'chain-dir'));
  chain = await startExternalChain(join(dir.path, 'chain-dir'), { confirmations: 1 });
  a.env.ARCHIVE_SEAL_CHAINS = chain.chainsFile;
  await Promise.all([a.start(), b.start()]);
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await chain?.stop();
  dir.remove();
});

const get = (c: PeerCenter, path: string, token = c.server!.adminToken) => api(c.server!.url, token, 'GET', path);
const post = (c: PeerCenter, path: string, body?: unknown, token = c.server!.adminToken) => api(c.server!.url, token, 'POST', path, body);
async function download(c: PeerCenter, id: number): Promise<Buffer> {
  const res = await fetch(`${c.server!.url}/v1/registrations/${id}/file`, { headers: { authorization: `Bearer ${c.server!.adminToken}` } });
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

describe.skipIf(RECOVERY_NOT_ON_POSTGRES)('disaster recovery from a peer', () => {
  it('rebuilds the registry and the originals, old proofs fold to the same roots, and the period chain goes on', async () => {
    // Before: two sealed periods, files and hash-only records, a private (pseudonymous) registrant.
    const made = await runCli(['tokens', 'create', '--role', 'depositor', '--name', '张三', '--pseudonymous', '--data-dir', a.dataDir]);
    const citizen = made.stdout.trim();
    const citizenAccount = /^new account (\d+):/.exec(made.stderr)![1]!;
    const originals = new Map<number, Buffer>();
    for (const [size, name] of [[400_000, '婚姻登记表.pdf'], [1_500_000, 'drawing.tif']] as const) {
      const data = randomBytes(size);
      const r = await upload(a.server!.url, a.server!.adminToken, data, { category: 'livelihood.marriage' }, name);
      originals.set(r.id, data);
    }
    const privateFile = randomBytes(50_000);
    const privateReg = await upload(a.server!.url, citizen, privateFile, { category: 'voluntary.individual' }, 'will.pdf');
    originals.set(privateReg.id, privateFile);
    expect((await post(a, '/v1/periods/seal')).status).toBe(201);
    const hashOnly = await post(a, '/v1/registrations', { sha256: createHash('sha256').update('contract').digest('hex'), category: 'voluntary.individual' });
    const third = randomBytes(70_000);
    const thirdReg = await upload(a.server!.url, a.server!.adminToken, third, { category: 'agency.digitized' }, 'memo.pdf');
    originals.set(thirdReg.id, third);
    expect((await post(a, '/v1/periods/seal')).status).toBe(201);
    await eventually(async () => ((await get(a, '/v1/periods/2')).body.anchored ? true : undefined), 'periods anchored');
    // A certificate handed to a registrant before the disaster.
    const [firstId, firstData] = [...originals.entries()][0]!;
    const oldCertificate = (await get(a, `/v1/registrations/${firstId}/certificate`)).body;
    expect(oldCertificate.format).toBe('archive-seal/certificate@1');
    const certFile = join(dir.path, 'old-certificate.json');
    const firstFile = join(dir.path, 'first-original.pdf');
    writeFileSync(certFile, JSON.stringify(oldCertificate));
    writeFileSync(firstFile, firstData);
    await eventually(async () => {
      const s = (await get(a, '/v1/backup/status')).body;
      return s.blobs.belowMinimum === 0 && s.periods.belowMinimum === 0 && s.peers[0].pending === 0 ? s : undefined;
    }, 'every copy at center-b');
    const before = new Map<number, any>();
    for (const id of [...originals.keys(), hashOnly.body.id]) before.set(id, (await get(a, `/v1/registrations/${id}`)).body);
    const periodsBefore = (await get(a, '/v1/periods')).body.periods;
    const pseudonym = before.get(privateReg.id).record.registrant.pseudonym;
    expect(pseudonym).toMatch(/^anon:/);

    // The offline copy of the master key, made while all is well.
    const keyFile = join(dir.path, 'offline', 'master-key.txt');
    const exported = await runCli(['keys', 'export-master', '--out', keyFile], { ARCHIVE_SEAL_DATA_DIR: a.dataDir });
    expect(exported.code).toBe(0);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);

    // A registration of the open period, not sealed: it reaches the peer in a journal segment.
    const unsealed = await post(a, '/v1/registrations', { sha256: createHash('sha256').update('unsealed').digest('hex'), category: 'voluntary.individual' });
    expect(unsealed.status).toBe(201);
    const journaled = await eventually(async () => {
      const s = (await get(a, '/v1/backup/status')).body;
      return s.unsealed.atPeers[0].registrations === 1 ? s.unsealed : undefined;
    }, 'the journal segment at center-b');
    expect(journaled).toEqual({ registrations: 1, atPeers: [{ peer: 'center-b', registrations: 1 }] });
    const unsealedView = (await get(a, `/v1/registrations/${unsealed.body.id}`)).body;
    // One made while the peer is away never leaves the site: it is lost with it.
    await b.stop();
    const lost = await post(a, '/v1/registrations', { sha256: createHash('sha256').update('lost').digest('hex'), category: 'voluntary.individual' });
    expect(lost.status).toBe(201);

    // The disaster.
    await a.stop();
    rmSync(a.dataDir, { recursive: true, force: true });
    await b.start();

    const usage = await runCli(['recover', '--data-dir', a.dataDir], a.env);
    expect(usage.code).toBe(2);
    // The peer cannot give one original just now (its copy moved aside): the registry comes back
    // whole, that original is reported and stays marked missing.
    const firstSha256 = createHash('sha256').update(firstData).digest('hex');
    const heldCopy = join(b.dataDir, 'held', 'center-a', 'blobs', firstSha256.slice(0, 2), firstSha256);
    renameSync(heldCopy, `${heldCopy}.aside`);
    const partial = await runCli(['recover', '--from-peer', b.peerUrl, '--data-dir', a.dataDir, '--master-key', keyFile], a.env);
    expect(partial.code).toBe(1);
    expect(partial.stdout).toMatch(/^recovered 2 sealed periods and 5 registrations from https:\/\/127\.0\.0\.1:\d+$/m);
    expect(partial.stdout).toMatch(/^originals: 3 restored and checked, 1 FAILED$/m);
    expect(partial.stdout).toContain(`failed ${firstSha256}: `);
    expect(partial.stdout).toMatch(/^the originals not restored stay marked missing \(with an alarm\): run this command again to fetch them/m);
    expect(partial.stdout).toMatch(/^recovered 1 registrations of the period not yet sealed, from journal segments/m);
    expect(partial.stdout).toMatch(/registrations made after its last replication pass/);
    // Once the peer has it again, running the recovery again resumes: it fetches only that one.
    renameSync(`${heldCopy}.aside`, heldCopy);
    const recovered = await runCli(['recover', '--from-peer', b.peerUrl, '--data-dir', a.dataDir, '--master-key', keyFile], a.env);
    expect(recovered.code).toBe(0);
    expect(recovered.stdout).toMatch(/^resumed the recovery in .+: its registry was already restored; fetched the originals still missing from https:/m);
    expect(recovered.stdout).toMatch(/^originals: 1 restored and checked$/m);
    expect(recovered.stdout).not.toMatch(/FAILED|run this command again/);
    const again = await runCli(['recover', '--from-peer', b.peerUrl, '--data-dir', a.dataDir, '--master-key', keyFile], a.env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already holds a registry/);

    // After: the center starts, everything sealed is back with the same ids, proofs and roots.
    await a.start();
    // An anchor the peer last saw in flight is settled from the chain (never sent again).
    await eventually(async () => ((await get(a, '/v1/periods/2')).body.anchored ? true : undefined), 'anchors settled from the chain');
    expect(await chain.anchorEvents()).toEqual(new Map([[1, 1], [2, 1]]));
    // An anchor's confirmations are a live count (the chain's head moves as later periods are
    // anchored); every recorded fact of each sealed period must be the same.
    const facts = (periods: any[]) =>
      periods.filter((p) => p.status === 'sealed').map((p) => ({ ...p, anchors: p.anchors?.map(({ confirmations: _c, ...rest }: any) => rest) }));
    expect(facts((await get(a, '/v1/periods')).body.periods)).toEqual(facts(periodsBefore));
    for (const [id, old] of before) {
      const now = (await get(a, `/v1/registrations/${id}`)).body;
      expect(now).toEqual(old);
      const leaf = leafHash(hexToBytes(now.salt), createHash('sha256').update(canonicalize(now.record)).digest());
      expect(Buffer.from(rootFromProof(leaf, now.proof.path)).toString('hex')).toBe(old.root);
      expect(verifyInclusionRfc9162(leaf, now.proof, hexToBytes(old.root))).toBe(true);
    }
    for (const [id, data] of originals) expect((await download(a, id)).equals(data)).toBe(true);
    // The certificate issued before the disaster still verifies, anchor included; and the rebuilt
    // center issues the same registration's certificate again.
    const oldVerified = await runCli(['verify', firstFile, certFile, '--rpc', chain.rpcUrl, '--trust', join(DEVELOPMENT_CERTS_DIR, 'root-ca.pem'), '--allow-development']);
    expect(oldVerified.stdout).toMatch(/^AUTHENTIC/m);
    expect(oldVerified.code).toBe(0);
    const reissued = await get(a, `/v1/registrations/${firstId}/certificate`);
    expect(reissued.status).toBe(200);
    expect(reissued.body.content.anchors).toEqual(oldCertificate.content.anchors);
    expect((await get(a, `/v1/registrations/${unsealed.body.id}`)).body).toEqual(unsealedView);
    // The lost one's id is given again: its receipt names a record the center no longer has.
    expect((await get(a, `/v1/registrations/${lost.body.id}`)).status).toBe(404);

    // New registrations continue the same chain: the open period 3 goes on and seals on period 2's root.
    const fresh = await post(a, '/v1/registrations', { sha256: createHash('sha256').update('after the fire').digest('hex'), category: 'voluntary.individual' });
    expect(fresh.status).toBe(201);
    expect(fresh.body).toMatchObject({ id: unsealed.body.id + 1, periodId: 3, leafIndex: 1 });
    const sealed = await post(a, '/v1/periods/seal');
    expect(sealed.body).toMatchObject({ id: 3, leafCount: 2, previousRoot: periodsBefore.find((p: any) => p.id === 2).root });
    const proven = (await get(a, `/v1/registrations/${unsealed.body.id}`)).body;
    expect(proven.leafHash).toBe(unsealedView.leafHash);
    expect(verifyInclusionRfc9162(hexToBytes(proven.leafHash), proven.proof, hexToBytes(sealed.body.root))).toBe(true);

    // The private registrant keeps its account id and its pseudonym (the key came back sealed in the bundles).
    const citizenAgain = (await runCli(['tokens', 'create', '--account', citizenAccount, '--data-dir', a.dataDir])).stdout.trim();
    const more = await post(a, '/v1/registrations', { sha256: createHash('sha256').update('second will').digest('hex'), category: 'voluntary.individual' }, citizenAgain);
    expect(more.body.record.registrant).toEqual({ pseudonym });

    // And the restored center goes on replicating to its peer without sending the blobs again.
    await eventually(async () => {
      const s = (await get(a, '/v1/backup/status')).body;
      return s.blobs.belowMinimum === 0 && s.periods.belowMinimum === 0 && s.peers[0].pending === 0 ? s : undefined;
    }, 'the restored center in step with center-b');
    const recoveryEvents = (await get(a, '/v1/backup/events?type=recovery')).body.events;
    expect(recoveryEvents.filter((e: any) => e.outcome === 'success')).toHaveLength(6); // 2 periods, 4 blobs
    expect(recoveryEvents.filter((e: any) => e.outcome === 'failure').map((e: any) => e.object.id)).toEqual([firstSha256]);
    expect((await get(a, '/v1/alarms')).body.alarms.filter((x: any) => x.kind === 'audit-failed')).toEqual([]);
    expect(existsSync(join(a.dataDir, 'master.key'))).toBe(true);
  });
});
