import { createHash, createPrivateKey, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCenterPki } from '../../src/pki/center-pki.js';
import { generateRsaKey, issueCertificate, privateKeyToPem } from '../../src/pki/certificate-factory.js';
import { issuePkiSet, readPkiSetSource, writePkiSet } from '../../src/pki/key-management.js';
import { BuiltInTimestampAuthority } from '../../src/pki/timestamp-authority.js';
import { startExternalChain, waitFor, type ExternalChain } from '../helpers/external-chain.js';
import { api, runCli, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { openCenterStore } from '../helpers/test-database.js';

// kill -9 of the center in the middle of evidence renewal. The center timestamps with an outside
// TSA (run here, over HTTP), so the test sees each renewal request arrive and can kill the center
// while one is in flight, some periods renewed and others not. After the restart: every period is
// renewed exactly once (one row each, seq 1, no gap, no duplicate), nothing registered is lost,
// and certificates, old and new, verify AUTHENTIC with the CLI.
const DAY = 86_400_000;
const PERIODS = 6;
const CHAIN_ID = 4543; // an outside chain id, not a development one
const POLICY = '1.2.156.999.4543.1'; // the outside TSA's own policy (not the development one)
const dir = makeTempDir();
const pkiDir = join(dir.path, 'pki');
const tsa2Dir = join(dir.path, 'pki-tsa-2');
const dataDir = join(dir.path, 'data');
let chain: ExternalChain;
let server: ServerProcess | undefined;
let tsaServer: Server | undefined;
/** The outside TSA: its current identity, and a delay before each answer while renewals are watched. */
const outside = { tsa: undefined as unknown as BuiltInTimestampAuthority, delayMs: 0, requests: 0 };
const contents = Array.from({ length: PERIODS }, () => randomBytes(1500));
const ids: number[] = [];

const start = (tsaUrl: string) =>
  startServerProcess(dataDir, {
    ARCHIVE_SEAL_PKI_DIR: pkiDir,
    ARCHIVE_SEAL_CENTER_NAME: 'Crash during renewal test center',
    ARCHIVE_SEAL_CHAINS: chain.chainsFile,
    ARCHIVE_SEAL_TSA_URL: tsaUrl,
    ARCHIVE_SEAL_RENEWAL_CHECK_MS: '300',
  });
let tsaUrl: string;

function renewalRows(): { period_id: number; seq: number }[] {
  const db = openCenterStore(dataDir, { readonly: true });
  try {
    return db.prepare('SELECT period_id, seq FROM period_timestamp_renewal ORDER BY period_id, seq').all() as { period_id: number; seq: number }[];
  } finally {
    db.close();
  }
}

async function registerAndSeal(content: Buffer): Promise<number> {
  const entry = { sha256: createHash('sha256').update(content).digest('hex'), sm3: createHash('sm3').update(content).digest('hex'), category: 'agency.documents' };
  const res = await api(server!.url, server!.adminToken, 'POST', '/v1/registrations', entry);
  expect(res.status).toBe(201);
  const sealed = await api(server!.url, server!.adminToken, 'POST', '/v1/periods/seal');
  expect(sealed.status).toBe(201);
  return res.body.id as number;
}

async function certificateOf(id: number): Promise<{ file: string; cert: { evidence?: { renewals: unknown[] } } }> {
  const cert = await waitFor(`certificate ${id}`, async () => {
    const res = await api(server!.url, server!.adminToken, 'GET', `/v1/registrations/${id}/certificate`);
    return res.status === 200 ? res.body : undefined;
  });
  const file = join(dir.path, `cert-${id}-${randomBytes(3).toString('hex')}.json`);
  writeFileSync(file, JSON.stringify(cert));
  return { file, cert };
}

async function cliVerify(index: number, certFile: string): Promise<{ code: number; stdout: string }> {
  const file = join(dir.path, `record-${index}.bin`);
  writeFileSync(file, index < contents.length ? contents[index]! : late);
  return runCli(['verify', file, certFile, '--trust', join(pkiDir, 'root-ca.pem'), '--rpc', chain.rpcUrl]);
}
const late = randomBytes(1500);

beforeAll(async () => {
  chain = await startExternalChain(dir.path, { confirmations: 1, chainId: CHAIN_ID });
  const name = (commonName: string) => ({ commonName, organization: 'Archive Seal crash renewal test', country: 'CN' });
  // The first TSA certificate lasts 30 days: every period's token is due for renewal at once.
  const set = issuePkiSet({ root: name('Crash Renewal Root'), center: name('Crash Renewal Center'), tsa: name('Outside TSA 1'), leafYears: 30 / 365.25 });
  writePkiSet(pkiDir, set);
  const tsaKey = generateRsaKey();
  const tsa2Cert = issueCertificate({
    profile: 'timestamping',
    subject: name('Outside TSA 2'),
    subjectKey: tsaKey,
    issuer: { certificatePem: set.rootCertPem, privateKey: createPrivateKey(set.rootKeyPem) },
    notBefore: new Date(Date.now() - 3_600_000),
    notAfter: new Date(Date.now() + 3650 * DAY),
  });
  writePkiSet(tsa2Dir, { ...set, tsaCertPem: tsa2Cert, tsaKeyPem: privateKeyToPem(tsaKey) });
  outside.tsa = new BuiltInTimestampAuthority({ identity: loadCenterPki(readPkiSetSource(pkiDir)).tsa, policyOid: POLICY });

  tsaServer = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      outside.requests++;
      const tsa = outside.tsa;
      setTimeout(() => {
        if (res.destroyed) return;
        res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(tsa.respond(new Uint8Array(Buffer.concat(chunks))));
      }, outside.delayMs);
    });
    req.on('error', () => {});
  });
  await new Promise<void>((resolve) => tsaServer!.listen(0, '127.0.0.1', resolve));
  tsaUrl = `http://127.0.0.1:${(tsaServer.address() as AddressInfo).port}/`;

  server = await start(tsaUrl);
  for (const content of contents) ids.push(await registerAndSeal(content));
  await waitFor('all periods anchored', async () => {
    for (let p = 1; p <= PERIODS; p++) if (!(await api(server!.url, undefined, 'GET', `/v1/periods/${p}`)).body.anchored) return undefined;
    return true;
  });
  // Due, but the outside TSA still signs with the same certificate: nothing is renewed.
  await waitFor('renewal refused', async () => (/evidence renewal due but not made/.test(server!.output()) ? true : undefined));
  expect(renewalRows()).toEqual([]);
}, 300_000);

afterAll(async () => {
  await server?.stop();
  await new Promise((resolve) => (tsaServer ? tsaServer.close(resolve) : resolve(undefined)));
  tsaServer?.closeAllConnections();
  await chain?.stop();
  dir.remove();
});

describe('kill -9 of the center in the middle of evidence renewal', () => {
  let killedAfter: { period_id: number; seq: number }[] = [];

  it('is killed with some periods renewed and a renewal in flight', async () => {
    // The outside TSA gets its new certificate and answers slowly: the renewals come one by one.
    outside.tsa = new BuiltInTimestampAuthority({ identity: loadCenterPki(readPkiSetSource(tsa2Dir)).tsa, policyOid: POLICY });
    outside.delayMs = 400;
    const before = outside.requests;
    await waitFor('the third renewal request', async () => (outside.requests - before >= 3 ? true : undefined), 60_000);
    await server!.kill();
    server = undefined;
    killedAfter = renewalRows();
    // Mid-way: the first two answers may be written, the third was in flight; never all of them.
    expect(killedAfter.length).toBeGreaterThanOrEqual(1);
    expect(killedAfter.length).toBeLessThan(PERIODS);
    expect(killedAfter.every((r) => r.seq === 1)).toBe(true);
  }, 120_000);

  it('after the restart each period is renewed exactly once: one row, seq 1, none twice', async () => {
    outside.delayMs = 0;
    server = await start(tsaUrl);
    await waitFor('every period renewed', async () => (renewalRows().length >= PERIODS ? true : undefined), 60_000);
    // Several more checks run (every 300 ms): none adds a link.
    const requests = outside.requests;
    await new Promise((r) => setTimeout(r, 2000));
    expect(outside.requests).toBe(requests);
    expect(renewalRows()).toEqual(Array.from({ length: PERIODS }, (_, i) => ({ period_id: i + 1, seq: 1 })));
    for (let p = 1; p <= PERIODS; p++) {
      const view = (await api(server.url, undefined, 'GET', `/v1/periods/${p}`)).body;
      expect(view.evidence?.renewals, `period ${p}`).toHaveLength(1);
      expect(view.evidence.renewals[0].tsa).toMatch(/Outside TSA 2/);
    }
  }, 120_000);

  it('loses nothing: every registration is there, each certificate carries its renewal and verifies AUTHENTIC with the CLI', async () => {
    for (let p = 1; p <= PERIODS; p++) expect((await api(server!.url, undefined, 'GET', `/v1/periods/${p}`)).body).toMatchObject({ anchored: true, leafCount: 1 });
    for (const [i, id] of ids.entries()) {
      expect((await api(server!.url, server!.adminToken, 'GET', `/v1/registrations/${id}`)).status).toBe(200);
      const { file: certFile, cert } = await certificateOf(id);
      expect(cert.evidence?.renewals, `registration ${id}`).toHaveLength(1);
      const result = await cliVerify(i, certFile);
      expect(result.stdout, `registration ${id}`).toContain('AUTHENTIC');
      expect(result.stdout).not.toContain('NOT AUTHENTIC');
      expect(result.code, result.stdout).toBe(0);
    }
  }, 180_000);

  it('a certificate issued after the restart verifies AUTHENTIC with the CLI', async () => {
    const id = await registerAndSeal(late);
    const { file: certFile, cert } = await certificateOf(id);
    expect(cert.evidence).toBeUndefined();
    const result = await cliVerify(contents.length, certFile);
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toContain('AUTHENTIC');
    // Its period's token is fresh from the new TSA certificate: not due, not renewed.
    expect(renewalRows().filter((r) => r.period_id === PERIODS + 1)).toEqual([]);
  }, 180_000);
});
