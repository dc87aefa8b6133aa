import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalBytes } from '../../src/core/canonical-json.js';
import type { Certificate } from '../../src/core/certificate.js';
import { bytesToBase64 } from '../../src/core/pem.js';
import { bytesToHex } from '../../src/core/hex.js';
import { leafHash } from '../../src/core/merkle.js';
import { BuiltInTimestampAuthority } from '../../src/pki/timestamp-authority.js';
import { loadCenterPki } from '../../src/pki/center-pki.js';
import { signDetached } from '../../src/pki/cms-signer.js';
import { DEVELOPMENT_CERTS_DIR, loadDevelopmentPki } from '../../src/pki/dev-pki.js';
import { issuePkiSet, writePkiSet } from '../../src/pki/key-management.js';
import { startExternalChain, waitFor, type ExternalChain } from '../helpers/external-chain.js';
import { api, runCli, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { copyOf, loadCertificateVector } from './certificate-fixture.js';

// The tamper and trust matrix, run where a court's reader meets it: `archive-seal verify`, the
// center's `POST /v1/verify`, and the browser page in Chromium. The center has its own keys
// (`keys init`'s kind, not the development PKI) and anchors on an outside EVM chain by
// configuration alone: a second anvil with chain id 4242 stands in for it. Each case names the
// verdict, the code and the exit status a reader sees.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const OUTSIDE_CHAIN_ID = 4242;
const CENTER_ID = 'qz-center';
const DEV_ROOT = join(DEVELOPMENT_CERTS_DIR, 'root-ca.pem');

const dir = makeTempDir('archive-seal-verdicts-');
const pkiDir = join(dir.path, 'pki');
const pkiFiles = issuePkiSet({
  root: { commonName: 'Quzhou Archive Root CA', organization: 'Quzhou Archives' },
  center: { commonName: 'Quzhou Registration Center', organization: 'Quzhou Archives' },
  tsa: { commonName: 'Quzhou Registration Center TSA', organization: 'Quzhou Archives' },
});
const pki = loadCenterPki({ rootPem: pkiFiles.rootCertPem, centerCertPem: pkiFiles.centerCertPem, centerKeyPem: pkiFiles.centerKeyPem, tsaCertPem: pkiFiles.tsaCertPem, tsaKeyPem: pkiFiles.tsaKeyPem });
const ROOT = join(pkiDir, 'root-ca.pem');

let chain: ExternalChain | undefined;
let server: ServerProcess | undefined;
let browser: Browser | undefined;
const original = randomBytes(5000);
const file = join(dir.path, 'evidence.bin');
let genuine: Certificate;

/** The content edited as `edit` says and signed again with the center's own key (as a thief of that key would). */
function resignedByCenter(edit: (c: Certificate) => void): Certificate {
  const cert = copyOf(genuine);
  edit(cert);
  const signed = canonicalBytes(cert.content);
  return { ...cert, signedContent: bytesToBase64(signed), signature: bytesToBase64(signDetached(signed, pki.center)) };
}

/**
 * The forger of issue 16, as an expert did it in half an hour: a record of their own under this
 * center's name and a registration id it uses, a one-leaf tree, a token from the development TSA
 * (its key is in the repository), an anchor on a chain id no node serves, and the content signed
 * with the committed development center key.
 */
async function forgedWithDevelopmentKeys(): Promise<{ certificate: Certificate; file: Buffer }> {
  const vector = loadCertificateVector();
  const dev = loadDevelopmentPki();
  const cert = copyOf(vector.certificate);
  const content = cert.content;
  const now = Date.now();
  content.record = { ...content.record, center: CENTER_ID, registrationId: genuine.content.record.registrationId, registeredAt: new Date(now - 60_000).toISOString() };
  content.issuer = { center: CENTER_ID, name: '衢州市档案馆电子文件登记备份中心', development: false };
  const recordDigest = createHash('sha256').update(canonicalBytes(content.record)).digest();
  const salt = randomBytes(32);
  const leaf = leafHash(salt, recordDigest);
  content.recordDigest = { sha256: recordDigest.toString('hex') };
  content.salt = salt.toString('hex');
  content.leaf = bytesToHex(leaf);
  content.proof = { leafIndex: 0, treeSize: 1, path: [] };
  content.period = { ...content.period, id: genuine.content.period.id, root: bytesToHex(leaf), leafCount: 1, sealedAt: new Date(now - 30_000).toISOString() };
  const stamped = await new BuiltInTimestampAuthority({ identity: dev.tsa }).timestamp(leaf);
  content.timestamp = { token: bytesToBase64(stamped.token), genTime: stamped.genTime.toISOString(), tsa: stamped.tsa, serial: stamped.serial };
  content.issuedAt = new Date(stamped.genTime.getTime() + 1000).toISOString();
  content.anchors = [{ ...content.anchors[0]!, chainId: 99_999 }];
  const signed = canonicalBytes(content);
  return { certificate: { ...cert, signedContent: bytesToBase64(signed), signature: bytesToBase64(signDetached(signed, dev.center)) }, file: vector.file };
}

function writeCert(name: string, cert: unknown): string {
  const path = join(dir.path, `${name}.json`);
  writeFileSync(path, JSON.stringify(cert));
  return path;
}

async function cli(certificate: unknown, args: string[], fileToCheck = file) {
  const res = await runCli(['verify', fileToCheck, writeCert(`cli-${randomBytes(4).toString('hex')}`, certificate), '--json', ...args]);
  const report = res.stdout.trim().startsWith('{') ? JSON.parse(res.stdout) : undefined;
  return { code: res.code, report, stderr: res.stderr };
}

async function postVerify(certificate: unknown, content: Buffer = original) {
  const form = new FormData();
  form.append('certificate', JSON.stringify(certificate));
  form.append('file', new Blob([new Uint8Array(content)]), 'evidence.bin');
  const res = await fetch(`${server!.url}/v1/verify`, { method: 'POST', body: form });
  expect(res.status).toBe(200);
  return (await res.json()) as { verdict: string; authentic: boolean; steps: { step: string; status: string; code: string; message: string; details?: any }[] };
}

const codeOf = (report: { steps: { step: string; code: string; status: string }[] }, step: string) => report.steps.filter((s) => s.step === step).map((s) => `${s.status}:${s.code}`);

beforeAll(async () => {
  writePkiSet(pkiDir, pkiFiles);
  chain = await startExternalChain(join(dir.path), { confirmations: 1, name: 'outside', chainId: OUTSIDE_CHAIN_ID });
  server = await startServerProcess(join(dir.path, 'data'), {
    ARCHIVE_SEAL_CHAINS: chain.chainsFile,
    ARCHIVE_SEAL_PKI_DIR: pkiDir,
    ARCHIVE_SEAL_CENTER_ID: CENTER_ID,
    ARCHIVE_SEAL_CENTER_NAME: '衢州市档案馆电子文件登记备份中心',
  });
  writeFileSync(file, original);
  const form = new FormData();
  form.append('category', 'agency.documents');
  form.append('file', new Blob([new Uint8Array(original)]), 'evidence.bin');
  const first = await fetch(`${server.url}/v1/registrations`, { method: 'POST', headers: { authorization: `Bearer ${server.adminToken}` }, body: form });
  expect(first.status).toBe(201);
  const id = ((await first.json()) as { id: number }).id;
  // A few more, so the leaf index and tree size mean something.
  await api(server.url, server.adminToken, 'POST', '/v1/registrations/batch', {
    entries: Array.from({ length: 4 }, () => ({ sha256: randomBytes(32).toString('hex'), sm3: randomBytes(32).toString('hex'), category: 'agency.documents' })),
  });
  expect((await api(server.url, server.adminToken, 'POST', '/v1/periods/seal')).status).toBe(201);
  genuine = await waitFor('the certificate', async () => {
    const res = await api(server!.url, server!.adminToken, 'GET', `/v1/registrations/${id}/certificate`);
    return res.status === 200 ? (res.body as Certificate) : undefined;
  });
}, 120_000);

afterAll(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
  await chain?.stop();
  dir.remove();
});

describe('a center with its own keys, anchoring on an outside chain by configuration alone', () => {
  it('issues a certificate whose anchor is on chain 4242, marked independent, with a timestamp under no development policy', () => {
    expect(genuine.content.anchors).toEqual([expect.objectContaining({ chain: 'outside', chainId: OUTSIDE_CHAIN_ID, independent: true })]);
    expect(genuine.content.issuer.development).toBe(false);
  });

  it('is AUTHENTIC from the CLI given that chain\'s RPC and the trusted root (exit 0)', async () => {
    const res = await runCli(['verify', file, writeCert('genuine', genuine), '--trust', ROOT, '--rpc', chain!.rpcUrl]);
    expect(res.stdout).toMatch(/\nAUTHENTIC: registration \d+ of qz-center/);
    expect(res.stdout).toMatch(/ok {7}anchor {9}chain 4242 holds the root/);
    expect(res.code).toBe(0);
  });

  it('--center fetches the root and prints its fingerprint; --fingerprint pins it', async () => {
    const fingerprint = (await api(server!.url, undefined, 'GET', '/v1/trust-roots')).body.roots[0].sha256 as string;
    expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
    const byCenter = await runCli(['verify', file, writeCert('genuine', genuine), '--center', server!.url, '--rpc', chain!.rpcUrl]);
    expect(byCenter.stderr).toContain(fingerprint.toUpperCase().replace(/(..)(?!$)/g, '$1:'));
    expect(byCenter.code).toBe(0);
    const pinned = await runCli(['verify', file, writeCert('genuine', genuine), '--center', server!.url, '--fingerprint', fingerprint, '--rpc', chain!.rpcUrl]);
    expect(pinned.code).toBe(0);
    const wrong = await runCli(['verify', file, writeCert('genuine', genuine), '--center', server!.url, '--fingerprint', 'ab'.repeat(32), '--rpc', chain!.rpcUrl]);
    expect(wrong.stderr).toContain('FINGERPRINT_MISMATCH');
    expect(wrong.code).toBe(2);
  });

  it('is AUTHENTIC at the center, its registry agreeing', async () => {
    const report = await postVerify(genuine);
    expect(report.verdict).toBe('AUTHENTIC');
    expect(report.authentic).toBe(true);
    expect(codeOf(report, 'registry')).toEqual(['ok:OK']);
  });
});

describe('the matrix on the CLI and POST /v1/verify', () => {
  it('no root named: CANNOT BE DETERMINED (exit 3), CMS_NO_TRUST_ROOT; the development root is never trusted by default', async () => {
    const res = await cli(genuine, ['--rpc', chain!.rpcUrl]);
    expect(res.report.verdict).toBe('CANNOT_BE_DETERMINED');
    expect(codeOf(res.report, 'signature')).toEqual(['undetermined:CMS_NO_TRUST_ROOT']);
    expect(res.code).toBe(3);
  });

  it('forged with the development keys, naming this center and a chain id the node does not serve: never AUTHENTIC', async () => {
    const forged = await forgedWithDevelopmentKeys();
    const forgedFile = join(dir.path, 'forged.bin');
    writeFileSync(forgedFile, forged.file);
    // Trusting the development root: the keys are public, the chain is not served.
    const dev = await cli(forged.certificate, ['--trust', DEV_ROOT, '--rpc', chain!.rpcUrl], forgedFile);
    expect(codeOf(dev.report, 'signature')).toEqual(['undetermined:CMS_DEVELOPMENT_PKI']);
    expect(codeOf(dev.report, 'anchor')).toEqual(['undetermined:ANCHOR_CHAIN_NOT_SERVED']);
    expect(dev.report.steps.find((s: any) => s.step === 'anchor').message).toContain(`serve chain ${OUTSIDE_CHAIN_ID}, not chain 99999`);
    expect(dev.code).toBe(3);
    // Even told to allow development keys, it does not exit 0: the anchor is still not proven.
    expect((await cli(forged.certificate, ['--trust', DEV_ROOT, '--allow-development', '--rpc', chain!.rpcUrl], forgedFile)).code).toBe(3);
    // Trusting this center's root: the signer is not this center's.
    const own = await cli(forged.certificate, ['--trust', ROOT, '--rpc', chain!.rpcUrl], forgedFile);
    expect(codeOf(own.report, 'signature')).toEqual(['undetermined:CMS_UNTRUSTED_SIGNER']);
    expect(own.code).toBe(3);
    // The center itself knows its registry holds another record and root for that id.
    const report = await postVerify(forged.certificate, forged.file);
    expect(report.verdict).toBe('NOT_AUTHENTIC');
    expect(codeOf(report, 'registry')).toEqual(['failed:REGISTRY_MISMATCH']);
    const differences = report.steps.find((s) => s.step === 'registry')!.details.differences as { field: string; certificate: unknown; registry: unknown }[];
    expect(differences.map((d) => d.field)).toEqual(expect.arrayContaining(['recordDigest', 'leaf', 'periodRoot']));
    expect(differences.every((d) => d.certificate !== d.registry)).toBe(true);
  });

  it('an unknown chain id: CANNOT BE DETERMINED (exit 3), ANCHOR_CHAIN_NOT_SERVED, saying what to do', async () => {
    const cert = resignedByCenter((c) => (c.content.anchors[0]!.chainId = 77_777));
    const res = await cli(cert, ['--trust', ROOT, '--rpc', chain!.rpcUrl]);
    expect(res.report.steps.find((s: any) => s.step === 'anchor')).toMatchObject({ status: 'undetermined', code: 'ANCHOR_CHAIN_NOT_SERVED', remedy: expect.stringContaining('chain 77777') });
    expect(res.code).toBe(3);
  });

  it('a node that cannot be reached: CANNOT BE DETERMINED (exit 3), ANCHOR_RPC_ERROR, not NOT AUTHENTIC', async () => {
    const res = await cli(genuine, ['--trust', ROOT, '--rpc', 'http://127.0.0.1:9/']);
    expect(codeOf(res.report, 'anchor')).toEqual(['undetermined:ANCHOR_RPC_ERROR']);
    expect(res.report.verdict).toBe('CANNOT_BE_DETERMINED');
    expect(res.code).toBe(3);
  });

  it("an anchor on the center's own (development) chain: CANNOT BE DETERMINED (exit 3), ANCHOR_DEVELOPMENT_CHAIN, though the node holds the root", async () => {
    const cert = resignedByCenter((c) => (c.content.anchors[0]!.independent = false));
    const res = await cli(cert, ['--trust', ROOT, '--rpc', chain!.rpcUrl]);
    const anchor = res.report.steps.find((s: any) => s.step === 'anchor');
    expect(anchor).toMatchObject({ status: 'undetermined', code: 'ANCHOR_DEVELOPMENT_CHAIN', details: { checked: 'OK', independent: false } });
    expect(res.code).toBe(3);
    expect((await postVerify(cert)).verdict).toBe('CANNOT_BE_DETERMINED');
  });

  it.each([
    ['serial number', (c: Certificate) => (c.content.timestamp.serial = (BigInt(`0x${c.content.timestamp.serial}`) + 1n).toString(16)), 'timestamp', 'TST_SERIAL_MISMATCH'],
    ['TSA name', (c: Certificate) => (c.content.timestamp.tsa = 'CN=National Time Service Center,O=NTSC,C=CN'), 'timestamp', 'TST_STATED_TSA_MISMATCH'],
    ['second anchor', (c: Certificate) => c.content.anchors.push({ ...c.content.anchors[0]!, txHash: `0x${'ab'.repeat(32)}` }), 'anchor', 'ANCHOR_TX_NOT_FOUND'],
    ['leaf index', (c: Certificate) => (c.content.proof.leafIndex = c.content.proof.leafIndex + 1), 'merkle-path', 'PROOF_INVALID'],
  ])('an edited %s, re-signed with the center key: NOT AUTHENTIC (exit 1), %s', async (_what, edit, step, code) => {
    const cert = resignedByCenter(edit);
    const res = await cli(cert, ['--trust', ROOT, '--rpc', chain!.rpcUrl]);
    expect(codeOf(res.report, step)).toContain(`failed:${code}`);
    expect(res.report.verdict).toBe('NOT_AUTHENTIC');
    expect(res.code).toBe(1);
    const atCenter = await postVerify(cert);
    expect(atCenter.verdict).toBe('NOT_AUTHENTIC');
    expect(codeOf(atCenter, step)).toContain(`failed:${code}`);
  });

  it('the leaf index edited is also a registry mismatch at the center, showing both values', async () => {
    const cert = resignedByCenter((c) => (c.content.proof.leafIndex = c.content.proof.leafIndex + 1));
    const registry = (await postVerify(cert)).steps.find((s) => s.step === 'registry')!;
    expect(registry).toMatchObject({ status: 'failed', code: 'REGISTRY_MISMATCH' });
    expect(registry.details.differences).toContainEqual({ field: 'leafIndex', certificate: genuine.content.proof.leafIndex + 1, registry: genuine.content.proof.leafIndex });
  });

  it('a certificate from another center: CANNOT BE DETERMINED (exit 3) with CMS_UNTRUSTED_SIGNER; the center does not compare it with its registry', async () => {
    const vector = loadCertificateVector();
    const otherFile = join(dir.path, 'other-center.bin');
    writeFileSync(otherFile, vector.file);
    const res = await cli(vector.certificate, ['--trust', ROOT], otherFile);
    expect(codeOf(res.report, 'signature')).toEqual(['undetermined:CMS_UNTRUSTED_SIGNER']);
    expect(res.code).toBe(3);
    const report = await postVerify(vector.certificate, vector.file);
    expect(report.verdict).toBe('CANNOT_BE_DETERMINED');
    expect(codeOf(report, 'registry')).toEqual([]);
  });
});

describe('the matrix on the page (Chromium)', () => {
  const contexts: BrowserContext[] = [];
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
  });

  async function check(cert: unknown, content: Buffer, rpc?: string): Promise<Page> {
    browser ??= await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: { width: 1100, height: 1400 } });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${server!.url}/verify`);
    await page.locator('body[data-ready="true"]').waitFor({ timeout: 10_000 });
    await page.getByLabel('选择文件，或把文件拖放到此框内').setInputFiles({ name: 'evidence.bin', mimeType: 'application/octet-stream', buffer: content });
    await page.getByLabel(/证书文件（JSON）/).setInputFiles({ name: 'certificate.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(cert)) });
    if (rpc !== undefined) {
      await page.locator('#settings > summary').click();
      await page.locator('#rpc-urls').fill(rpc);
    }
    await page.getByRole('button', { name: '开始核验' }).click();
    await page.locator('#verdict').waitFor({ timeout: 30_000 });
    return page;
  }
  const verdictOf = (page: Page) => page.locator('#summary').getAttribute('data-verdict');

  it('the genuine certificate: AUTHENTIC, and the root\'s fingerprint in plain text', async () => {
    const page = await check(genuine, original);
    expect(await verdictOf(page)).toBe('AUTHENTIC');
    expect(await page.locator('#verdict').textContent()).toBe('真实：该文件与登记的原件一致，证书有效。');
    const fingerprint = (await api(server!.url, undefined, 'GET', '/v1/trust-roots')).body.roots[0].sha256 as string;
    expect(await page.locator('#summary').textContent()).toContain(`SHA-256 指纹 ${fingerprint}`);
  });

  it('a node that cannot be reached: amber CANNOT BE DETERMINED with what to do, in Chinese and English', async () => {
    const page = await check(genuine, original, 'http://127.0.0.1:9/');
    expect(await verdictOf(page)).toBe('CANNOT_BE_DETERMINED');
    expect(await page.locator('#summary').getAttribute('class')).toContain('undetermined');
    expect(await page.locator('#verdict').textContent()).toContain('无法确定');
    expect(await page.locator('#summary').textContent()).not.toContain('所有项目均已核验');
    expect(await page.locator('#what-to-do').textContent()).toContain('请检查节点地址和网络');
    expect(await page.locator('[data-step="anchor"]').getAttribute('data-status')).toBe('undetermined');
    const amber = await page.locator('#summary').evaluate((el) => getComputedStyle(el).borderTopColor);
    expect(amber).toBe('rgb(191, 135, 0)');
    await page.getByRole('button', { name: 'English' }).click();
    expect(await page.locator('#verdict').textContent()).toContain('CANNOT BE DETERMINED');
    expect(await page.locator('#what-to-do').textContent()).toContain('Check the node URL and the network');
  });

  it('forged with the development keys: CANNOT BE DETERMINED (the signer is not under this center\'s root)', async () => {
    const forged = await forgedWithDevelopmentKeys();
    const page = await check(forged.certificate, forged.file);
    expect(await verdictOf(page)).toBe('CANNOT_BE_DETERMINED');
    expect(await page.locator('[data-step="signature"]').getAttribute('data-code')).toBe('CMS_UNTRUSTED_SIGNER');
  });

  it("an anchor on the center's own chain: CANNOT BE DETERMINED, ANCHOR_DEVELOPMENT_CHAIN", async () => {
    const page = await check(resignedByCenter((c) => (c.content.anchors[0]!.independent = false)), original);
    expect(await verdictOf(page)).toBe('CANNOT_BE_DETERMINED');
    expect(await page.locator('[data-step="anchor"]').getAttribute('data-code')).toBe('ANCHOR_DEVELOPMENT_CHAIN');
  });

  it('an edited serial number: red NOT AUTHENTIC, TST_SERIAL_MISMATCH', async () => {
    const page = await check(resignedByCenter((c) => (c.content.timestamp.serial = (BigInt(`0x${c.content.timestamp.serial}`) + 1n).toString(16))), original);
    expect(await verdictOf(page)).toBe('NOT_AUTHENTIC');
    expect(await page.locator('[data-step="timestamp"]').getAttribute('data-code')).toBe('TST_SERIAL_MISMATCH');
  });
});

