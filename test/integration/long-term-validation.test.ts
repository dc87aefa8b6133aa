import { execFile } from 'node:child_process';
import { createHash, createPrivateKey, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Certificate } from '../../src/core/certificate.js';
import { jsonRpcOverHttp } from '../../src/core/json-rpc.js';
import { pkijsSignatureEngine } from '../../src/core/signature-engine.js';
import { verifyCertificate, type VerificationReport } from '../../src/core/verify-certificate.js';
import { generateRsaKey, issueCertificate, privateKeyToPem } from '../../src/pki/certificate-factory.js';
import { issuePkiSet, writePkiSet } from '../../src/pki/key-management.js';
import { nodeSignatureEngine } from '../../src/pki/node-signature-engine.js';
import { startExternalChain, waitFor, type ExternalChain } from '../helpers/external-chain.js';
import { api, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// A center whose center and TSA certificates last 30 days: a certificate issued today is checked
// as it will be 90 days from now (an injected clock for the verifier, -attime for openssl). The
// center is then given a new TSA certificate and renews the period's timestamp (RFC 4998 style):
// the certificate fetched again carries the renewal and still verifies after both signers have
// expired; the one fetched before does not.
const README = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
const block = /<!-- expert-check:begin -->\s*```bash\n([\s\S]*?)```\s*<!-- expert-check:end -->/.exec(README)?.[1];

const DAY = 86_400_000;
const dir = makeTempDir();
const pkiDir = join(dir.path, 'pki');
const dataDir = join(dir.path, 'data');
let chain: ExternalChain;
let server: ServerProcess | undefined;
let file: string;
let before: Certificate;
let renewed: Certificate;
let periodView: { evidence: { format: string; periodId: number; renewals: { genTime: string; reason: string }[] } | null };
const later = new Date(Date.now() + 90 * DAY);
let browser: Browser | undefined;

const start = (env: Record<string, string> = {}) =>
  startServerProcess(dataDir, {
    ARCHIVE_SEAL_PKI_DIR: pkiDir,
    ARCHIVE_SEAL_CENTER_NAME: 'Long-term validation test center',
    ARCHIVE_SEAL_CHAINS: chain.chainsFile,
    ARCHIVE_SEAL_RENEWAL_CHECK_MS: '300',
    ...env,
  });

beforeAll(async () => {
  chain = await startExternalChain(dir.path, { confirmations: 1, chainId: 4343 }); // an outside chain, not a development id
  const name = (commonName: string) => ({ commonName, organization: 'Archive Seal LTV test', country: 'CN' });
  const set = issuePkiSet({ root: name('LTV Root'), center: name('LTV Center'), tsa: name('LTV TSA 1'), leafYears: 30 / 365.25 });
  writePkiSet(pkiDir, set);
  server = await start();
  const contents = Array.from({ length: 3 }, () => randomBytes(2000));
  file = join(dir.path, 'record.bin');
  writeFileSync(file, contents[1]!);
  const entries = contents.map((c) => ({ sha256: createHash('sha256').update(c).digest('hex'), sm3: createHash('sm3').update(c).digest('hex'), category: 'agency.documents' }));
  const batch = await api(server.url, server.adminToken, 'POST', '/v1/registrations/batch', { entries });
  const id = batch.body.registrations[1].id as number;
  await api(server.url, server.adminToken, 'POST', '/v1/periods/seal');
  await waitFor('anchored', async () => ((await api(server!.url, undefined, 'GET', '/v1/periods/1')).body.anchored ? true : undefined));
  before = (await api(server.url, server.adminToken, 'GET', `/v1/registrations/${id}/certificate`)).body;
  // Due (the TSA certificate expires within the default 180 days) but not made: the same TSA
  // certificate would sign the renewal, which would carry the evidence no further.
  await waitFor('renewal refused', async () => (/evidence renewal due but not made/.test(server!.output()) ? true : undefined));
  expect((await api(server.url, undefined, 'GET', '/v1/periods/1')).body.evidence).toBeNull();
  await server.stop();

  // The center's TSA gets a new certificate (10 years) under the same root, as at a key renewal.
  const tsaKey = generateRsaKey();
  writePkiSet(
    pkiDir,
    {
      tsaCertPem: issueCertificate({
        profile: 'timestamping',
        subject: name('LTV TSA 2'),
        subjectKey: tsaKey,
        issuer: { certificatePem: set.rootCertPem, privateKey: createPrivateKey(set.rootKeyPem) },
        notBefore: new Date(Date.now() - 3_600_000),
        notAfter: new Date(Date.now() + 3650 * DAY),
      }),
      tsaKeyPem: privateKeyToPem(tsaKey),
    },
    { overwrite: true },
  );
  server = await start();
  await waitFor('renewed', async () => ((await api(server!.url, undefined, 'GET', '/v1/periods/1')).body.evidence ? true : undefined));
  await server.stop();
  // Started again: the renewal is on record, and nothing is renewed twice.
  server = await start();
  await new Promise((r) => setTimeout(r, 1500));
  periodView = (await api(server.url, undefined, 'GET', '/v1/periods/1')).body;
  renewed = (await api(server.url, server.adminToken, 'GET', `/v1/registrations/${id}/certificate`)).body;
}, 300_000);

afterAll(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
  await chain?.stop();
  dir.remove();
});

const root = () => readFileSync(join(pkiDir, 'root-ca.pem'), 'utf8');
const digests = () => {
  const bytes = readFileSync(file);
  return { sha256: createHash('sha256').update(bytes).digest('hex'), sm3: createHash('sm3').update(bytes).digest('hex') };
};
const verifyAt = (certificate: unknown, now: Date, engine = nodeSignatureEngine): Promise<VerificationReport> =>
  verifyCertificate({ certificate, file: digests(), trustRoots: [root()], now, engine, rpc: new Map([[4343, jsonRpcOverHttp(chain.rpcUrl, fetch)]]) });
const step = (report: VerificationReport, name: string) => report.steps.filter((s) => s.step === name).map((s) => [s.status, s.code]);

describe('evidence renewal at the center', () => {
  it('publishes one renewal of the period, made once across restarts', () => {
    expect(periodView.evidence).toMatchObject({ format: 'archive-seal/evidence@1', periodId: 1 });
    expect(periodView.evidence!.renewals).toHaveLength(1);
    expect(periodView.evidence!.renewals[0]!.reason).toMatch(/signer certificate expires at/);
  });

  it('adds it to the certificate beside the signed content, which is the same as before', () => {
    expect(before.evidence).toBeUndefined();
    expect(renewed.signedContent).toBe(before.signedContent);
    expect(renewed.signature).toBe(before.signature);
    expect(renewed.evidence).toEqual(periodView.evidence);
  });
});

describe('a certificate checked 90 days on, after the center and TSA certificates expired', () => {
  it('today: both versions are authentic', async () => {
    expect((await verifyAt(before, new Date())).verdict).toBe('AUTHENTIC');
    expect((await verifyAt(renewed, new Date())).verdict).toBe('AUTHENTIC');
  });

  it('with the renewal: authentic, each link checked', async () => {
    for (const engine of [nodeSignatureEngine, pkijsSignatureEngine]) {
      const report = await verifyAt(renewed, later, engine);
      expect(report.authentic, engine.name).toBe(true);
      expect(step(report, 'signature'), engine.name).toEqual([['ok', 'OK']]);
      expect(step(report, 'renewal'), engine.name).toEqual([['ok', 'OK']]);
      expect(step(report, 'long-term'), engine.name).toEqual([['ok', 'OK']]);
    }
  });

  it('without it: CANNOT BE DETERMINED, SIGNER_EXPIRED_NO_RENEWAL (and the verifier says where to get it)', async () => {
    for (const engine of [nodeSignatureEngine, pkijsSignatureEngine]) {
      const report = await verifyAt(before, later, engine);
      expect(report.verdict, engine.name).toBe('CANNOT_BE_DETERMINED');
      expect(step(report, 'long-term'), engine.name).toEqual([['undetermined', 'SIGNER_EXPIRED_NO_RENEWAL']]);
      expect(report.steps.find((s) => s.step === 'long-term')?.message).toMatch(/GET \/v1\/periods\/1/);
      // Every other check still held: only the long-term step is open, none failed.
      expect(report.steps.filter((s) => s.status !== 'ok').map((s) => s.step)).toEqual(['long-term']);
    }
  });

  it('a renewal that is not this period\'s token chain is refused', async () => {
    const swapped = structuredClone(renewed);
    swapped.evidence!.renewals[0]!.token = renewed.content.timestamp.token;
    const report = await verifyAt(swapped, later);
    expect(report.verdict).toBe('CANNOT_BE_DETERMINED');
    expect(step(report, 'renewal')).toEqual([['undetermined', 'RENEWAL_IMPRINT_MISMATCH']]);
  });

  it('the notes say that this PKI publishes no revocation service, not that revocation was checked', async () => {
    const report = await verifyAt(renewed, later);
    expect(report.notes.join('\n')).toMatch(/name no revocation service.*none was checked/);
  });
});

describe("the README's check by hand, 90 days on (AT)", () => {
  // Run asynchronously: a synchronous child would stop this process draining the chain node's
  // log pipe, and the node, its pipe full, stops answering the script's curl.
  const run = (certificate: unknown, at?: Date): Promise<{ code: number; out: string }> => {
    const cert = join(dir.path, `cert-${randomBytes(4).toString('hex')}.json`);
    writeFileSync(cert, JSON.stringify(certificate));
    const env = { ...process.env, FILE: file, CERT: cert, ROOT: join(pkiDir, 'root-ca.pem'), RPC: chain.rpcUrl, ...(at && { AT: String(Math.floor(at.getTime() / 1000)) }) };
    return new Promise((resolve) => {
      const child = execFile('bash', ['-c', block!], { cwd: dir.path, env, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr });
      });
      child.stdin?.end();
    });
  };

  it('passes today for the certificate without renewal', async () => {
    const { code, out } = await run(before);
    expect(out).not.toContain('MISMATCH');
    expect(code).toBe(0);
    expect(out).toContain('ok: block time is the one stated');
  }, 300_000);

  it('passes with the renewal, checking its link', async () => {
    const { code, out } = await run(renewed, later);
    expect(out).not.toContain('MISMATCH');
    expect(code).toBe(0);
    expect(out).toContain('ok: renewal 1 covers the root and the token before it');
    expect(out).toContain("ok: the newest token's signer is valid at");
    expect(out).toContain('ok: block time is the one stated');
  }, 300_000);

  it('stops without it, at the newest token', async () => {
    const { code, out } = await run(before, later);
    expect(code).not.toBe(0);
    expect(out).toContain("ok: the token's genTime is the one stated");
    expect(out).not.toContain("ok: the newest token's signer is valid");
    expect(out).not.toContain('ok: rootOf(period) on chain');
  }, 300_000);
});

describe('the browser verifier, 90 days on (its clock moved in Chromium)', () => {
  const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts', 'web');
  const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

  async function verifyOnPage(certificate: Certificate, lang: 'zh' | 'en' = 'zh'): Promise<Page> {
    browser ??= await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: { width: 1100, height: 1400 } });
    const page = await context.newPage();
    await page.clock.setFixedTime(later);
    await page.goto(`${server!.url}/verify${lang === 'en' ? '?lang=en' : ''}`);
    await page.locator('body[data-ready="true"]').waitFor({ timeout: 10_000 });
    await page.locator('#cert-input').setInputFiles({ name: 'certificate.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(certificate)) });
    await page.locator('#file-input').setInputFiles({ name: 'record.bin', mimeType: 'application/octet-stream', buffer: readFileSync(file) });
    await page.locator('#verify-button').click();
    await page.locator('#verdict').waitFor({ timeout: 20_000 });
    return page;
  }
  const stepOf = async (page: Page, name: string) => {
    const li = page.locator(`[data-step="${name}"]`);
    return { status: await li.getAttribute('data-status'), code: await li.getAttribute('data-code'), reason: await li.locator('.reason').textContent(), remedy: (await li.locator('.remedy').count()) > 0 ? await li.locator('.remedy').textContent() : null };
  };

  it('with the renewal: authentic, the renewal link and the long-term step said in Chinese (and in English)', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const page = await verifyOnPage(renewed);
    expect(await page.locator('#verdict').textContent()).toBe('真实：该文件与登记的原件一致，证书有效。');
    const renewal = await stepOf(page, 'renewal');
    expect(renewal).toMatchObject({ status: 'ok', code: 'OK', remedy: null });
    expect(renewal.reason).toMatch(/^第 1 次续期：时间戳机构 CN=LTV TSA 2.* 对本期根值连同前一个时间戳（.*）再次加盖时间戳，当时前一个时间戳签发者的证书仍然有效。$/);
    expect(await page.locator('[data-step="renewal"] strong').first().textContent()).toBe('时间戳续期（RFC 4998）');
    const longTerm = await stepOf(page, 'long-term');
    expect(longTerm.reason).toMatch(/^1 次续期将 .* 的时间戳延续至今；最后一个时间戳签发者的证书有效期至 /);
    await page.screenshot({ path: join(ARTIFACTS, 'renewal-authentic-zh.png'), fullPage: true });
    await page.getByRole('button', { name: 'English' }).click();
    expect((await stepOf(page, 'renewal')).reason).toMatch(/^Renewal 1: CN=LTV TSA 2.* timestamped the period root together with the token before it/);
    expect((await stepOf(page, 'long-term')).reason).toMatch(/^1 renewal\(s\) carry the timestamp of /);
    await page.screenshot({ path: join(ARTIFACTS, 'renewal-authentic-en.png'), fullPage: true });
  }, 60_000);

  it('without it: amber CANNOT BE DETERMINED, why and what to do in Chinese', async () => {
    const page = await verifyOnPage(before);
    expect(await page.locator('#verdict').textContent()).toBe('无法确定：没有核验项未通过，但有核验项无法进行，或不能证明任何事。');
    const longTerm = await stepOf(page, 'long-term');
    expect(longTerm).toMatchObject({ status: 'undetermined', code: 'SIGNER_EXPIRED_NO_RENEWAL' });
    expect(longTerm.reason).toBe('时间戳签发者（时间戳机构）的证书已经过期，而证书未附带续期时间戳：无法证明该时间戳在今天仍可信。');
    expect(longTerm.remedy).toContain('请向登记中心重新获取本证书（或本期的续期记录：GET /v1/periods/1）');
    expect(await page.locator('#what-to-do').textContent()).toContain('GET /v1/periods/1');
    await page.screenshot({ path: join(ARTIFACTS, 'renewal-missing-zh.png'), fullPage: true });
  }, 60_000);

  it('a swapped renewal: the broken link said in Chinese', async () => {
    const swapped = structuredClone(renewed);
    swapped.evidence!.renewals[0]!.token = renewed.content.timestamp.token;
    const page = await verifyOnPage(swapped);
    const renewal = await stepOf(page, 'renewal');
    expect(renewal).toMatchObject({ status: 'undetermined', code: 'RENEWAL_IMPRINT_MISMATCH' });
    expect(renewal.reason).toBe('续期时间戳所覆盖的不是本期根值与前一个时间戳：续期记录被改动过，或不属于本证书。');
    await page.screenshot({ path: join(ARTIFACTS, 'renewal-broken-zh.png'), fullPage: true });
  }, 60_000);
});
