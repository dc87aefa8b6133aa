import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { canonicalBytes } from '../../src/core/canonical-json.js';
import type { Certificate } from '../../src/core/certificate.js';
import { signDetached } from '../../src/pki/cms-signer.js';
import { startExternalChain, waitFor, type ExternalChain } from '../helpers/external-chain.js';
import { api, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { strangerPki, strangerPkiFiles } from '../pki/pki-test-kit.js';
import { issuePkiSet, writePkiSet } from '../../src/pki/key-management.js';

// The browser verifier in real headless Chromium against a real center anchoring on a real
// anvil: what a court's clerk sees for an authentic file, a changed file, a tampered
// certificate and an untrusted signer; the page saved to disk and opened from file://; the
// certificate PDF's QR code opening the page prefilled. The center has its own keys and the anvil
// stands in for an outside chain (chain id 4243): the page never calls development keys or a
// development chain authentic.
const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts', 'web');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const dir = makeTempDir('archive-seal-web-');
const CHAIN_ID = 4243;
let chain: ExternalChain | undefined;
let server: ServerProcess | undefined;
let browser: Browser | undefined;
const contexts: BrowserContext[] = [];

const original = randomBytes(300_000);
const fileName = '婚姻登记-2026-003.pdf';
let registrationId: number;
let certificateLink: string;
let certificate: Certificate;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  chain = await startExternalChain(dir.path, { confirmations: 1, chainId: CHAIN_ID });
  const pkiDir = join(dir.path, 'pki');
  writePkiSet(
    pkiDir,
    issuePkiSet({
      root: { commonName: 'Quzhou Archive Root CA', organization: 'Quzhou Archives' },
      center: { commonName: 'Quzhou Registration Center', organization: 'Quzhou Archives' },
      tsa: { commonName: 'Quzhou Registration Center TSA', organization: 'Quzhou Archives' },
    }),
  );
  server = await startServerProcess(join(dir.path, 'data'), { ARCHIVE_SEAL_CHAINS: chain.chainsFile, ARCHIVE_SEAL_PKI_DIR: pkiDir, ARCHIVE_SEAL_CENTER_NAME: '衢州市档案馆电子文件登记备份中心' });
  const form = new FormData();
  form.append('category', 'livelihood.marriage');
  form.append('file', new Blob([new Uint8Array(original)], { type: 'application/pdf' }), fileName);
  const registered = await fetch(`${server.url}/v1/registrations`, { method: 'POST', headers: { authorization: `Bearer ${server.adminToken}` }, body: form });
  expect(registered.status).toBe(201);
  registrationId = ((await registered.json()) as { id: number }).id;
  expect((await api(server.url, server.adminToken, 'POST', '/v1/periods/seal')).status).toBe(201);
  // 409 NOT_YET_ANCHORED until the period's root is timestamped and anchored.
  const issued = await waitFor('the certificate', async () => {
    const res = await fetch(`${server!.url}/v1/registrations/${registrationId}/certificate`, { headers: { authorization: `Bearer ${server!.adminToken}` } });
    return res.status === 200 ? { link: res.headers.get('content-location')!, body: (await res.json()) as Certificate } : undefined;
  });
  certificateLink = issued.link;
  certificate = issued.body;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
});

afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close().catch(() => {});
});

afterAll(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
  await chain?.stop();
  dir.remove();
});

async function openPage(url: string, viewport = { width: 1100, height: 1400 }): Promise<Page> {
  const context = await browser!.newContext({ viewport, acceptDownloads: true, ...(viewport.width < 500 && { isMobile: true, hasTouch: true, deviceScaleFactor: 2 }) });
  contexts.push(context);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(err.message));
  await page.goto(url);
  await page.locator('body[data-ready="true"]').waitFor({ timeout: 10_000 }).catch(() => {
    throw new Error(`the page did not start: ${problems.join('; ')}`);
  });
  return page;
}

const chooseFile = (page: Page, name: string, buffer: Buffer) => page.getByLabel('选择文件，或把文件拖放到此框内').setInputFiles({ name, mimeType: 'application/octet-stream', buffer });
const chooseCertificate = (page: Page, cert: unknown, name = 'certificate.json') =>
  page.getByLabel(/证书文件（JSON）/).setInputFiles({ name, mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(cert)) });

async function verify(page: Page): Promise<void> {
  await page.getByRole('button', { name: '开始核验' }).click();
  await page.locator('#verdict').waitFor({ timeout: 20_000 });
}

async function stepStates(page: Page): Promise<string[]> {
  return page.locator('#steps > li').evaluateAll((items) => items.map((li) => `${(li as HTMLElement).dataset.step}:${(li as HTMLElement).dataset.status}`));
}

describe('the browser verifier page', () => {
  it('opened from a certificate link, prefilled: the original file shows authentic, every step passed', async () => {
    const page = await openPage(`${server!.url}/verify#cert=${certificateLink}`);
    await expect.poll(() => page.locator('#cert-status').textContent()).toContain('已载入证书');
    await expect.poll(() => page.locator('#cert-facts').textContent()).toContain(fileName);
    expect(await page.locator('#privacy').textContent()).toContain('不会上传');
    await chooseFile(page, fileName, original);
    await expect.poll(() => page.locator('#file-status').textContent()).toContain('文件未上传');
    await verify(page);
    expect(await page.locator('#verdict').textContent()).toBe('真实：该文件与登记的原件一致，证书有效。');
    expect(await stepStates(page)).toEqual(['format:ok', 'signature:ok', 'file-digests:ok', 'record-digest:ok', 'leaf:ok', 'merkle-path:ok', 'timestamp:ok', 'long-term:ok', 'anchor:ok']);
    expect(await page.locator('#not-checked').textContent()).toBe('所有项目均已核验。');
    expect(await page.locator('#summary .warning').count()).toBe(0);
    // The report says when, with which node and which roots.
    const facts = (await page.locator('#report-facts').textContent()) ?? '';
    expect(facts).toContain(`${chain!.rpcUrl} — 链 ID ${CHAIN_ID}`);
    expect(facts).toMatch(/CN=Quzhou Archive Root CA.*随页面提供/);
    await page.screenshot({ path: join(ARTIFACTS, 'authentic-zh.png'), fullPage: true });

    // The saved report carries the core's report and what it was checked with.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: '保存报告（JSON）' }).click()]);
    const saved = JSON.parse(readFileSync((await download.path())!, 'utf8'));
    expect(saved).toMatchObject({ format: 'archive-seal/browser-verification@1', report: { authentic: true, subject: { registrationId } }, rpc: [{ url: chain!.rpcUrl, chainId: CHAIN_ID }] });
    expect(saved.trustRoots[0].sha256).toMatch(/^[0-9a-f]{64}$/);

    await page.getByRole('button', { name: 'English' }).click();
    expect(await page.locator('#verdict').textContent()).toBe('AUTHENTIC: the file is the registered original and the certificate is valid.');
    expect(await page.locator('[data-step="anchor"] .reason').textContent()).toMatch(/^Chain 4243 recorded the period root in block \d+/);
    await page.screenshot({ path: join(ARTIFACTS, 'authentic-en.png'), fullPage: true });

    // Printed, the report stands alone: the inputs and settings are left out, the steps' details shown.
    await page.emulateMedia({ media: 'print' });
    await page.evaluate(() => window.dispatchEvent(new Event('beforeprint')));
    expect(await page.locator('#settings').isVisible()).toBe(false);
    expect(await page.locator('#verify-button').isVisible()).toBe(false);
    expect(await page.locator('#report-facts').isVisible()).toBe(true);
    expect(await page.locator('[data-step="anchor"] details p').isVisible()).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'report-print.png'), fullPage: true });
  });

  it('a changed file: not authentic, the file-digests step failed', async () => {
    const page = await openPage(`${server!.url}/verify?cert=${encodeURIComponent(certificateLink)}`);
    await expect.poll(() => page.locator('#cert-status').textContent()).toContain('已载入证书');
    const changed = Buffer.from(original);
    changed[12_345]! ^= 0x01;
    await chooseFile(page, fileName, changed);
    await verify(page);
    expect(await page.locator('#verdict').textContent()).toBe('不真实：有核验项未通过，文件或证书与登记、签发时的不符。');
    expect(await page.locator('#failed-steps').textContent()).toBe('未通过：文件摘要（SHA-256、SM3）。');
    const failed = page.locator('[data-step="file-digests"]');
    expect(await failed.getAttribute('data-code')).toBe('FILE_DIGEST_MISMATCH');
    expect(await failed.locator('.reason').textContent()).toContain('您的文件与登记的原件不同');
    expect(await stepStates(page)).toEqual(['format:ok', 'signature:ok', 'file-digests:failed', 'record-digest:ok', 'leaf:ok', 'merkle-path:ok', 'timestamp:ok', 'long-term:ok', 'anchor:ok']);
    await page.screenshot({ path: join(ARTIFACTS, 'changed-file.png'), fullPage: true });
  });

  it('a tampered certificate (file name edited): the signature and record-digest steps fail', async () => {
    const page = await openPage(`${server!.url}/verify`);
    const tampered = structuredClone(certificate);
    tampered.content.record.fileName = '婚姻登记-2026-004.pdf';
    await chooseCertificate(page, tampered);
    await chooseFile(page, fileName, original);
    await verify(page);
    expect(await page.locator('#verdict').textContent()).toBe('不真实：有核验项未通过，文件或证书与登记、签发时的不符。');
    expect(await page.locator('[data-step="signature"]').getAttribute('data-code')).toBe('CERT_CONTENT_MISMATCH');
    expect(await page.locator('[data-step="signature"] .reason').textContent()).toContain('证书被改动过');
    expect(await page.locator('[data-step="record-digest"]').getAttribute('data-code')).toBe('RECORD_DIGEST_MISMATCH');
    expect(await page.locator('#failed-steps').textContent()).toBe('未通过：中心签名与信任根、登记记录摘要、默克尔树叶子、默克尔路径（至本期根值）。');
    await page.screenshot({ path: join(ARTIFACTS, 'tampered-certificate.png'), fullPage: true });
  });

  it('re-signed by an untrusted key: CANNOT BE DETERMINED (amber) until the user trusts that root', async () => {
    const page = await openPage(`${server!.url}/verify`);
    const resigned = structuredClone(certificate);
    resigned.signature = Buffer.from(signDetached(canonicalBytes(resigned.content), strangerPki().center)).toString('base64');
    await chooseCertificate(page, resigned);
    await chooseFile(page, fileName, original);
    await verify(page);
    expect(await page.locator('#verdict').textContent()).toBe('无法确定：没有核验项未通过，但有核验项无法进行，或不能证明任何事。');
    expect(await page.locator('[data-step="signature"]').getAttribute('data-code')).toBe('CMS_UNTRUSTED_SIGNER');
    expect(await page.locator('[data-step="signature"]').getAttribute('data-status')).toBe('undetermined');
    expect(await page.locator('[data-step="signature"] .reason').textContent()).toContain('不能追溯到您信任的根证书');
    expect(await page.locator('#undetermined-steps').textContent()).toBe('无法确定：中心签名与信任根。');
    expect(await page.locator('#what-to-do').textContent()).toContain('请取得签发该证书的登记中心的根证书');
    await page.screenshot({ path: join(ARTIFACTS, 'untrusted-signer.png'), fullPage: true });

    // Trust is the reader's choice: adding that root (as PEM text) makes the signature check pass.
    await page.getByText('核验设置：区块链节点与信任根').click();
    await page.getByLabel('或粘贴 PEM 文本').fill(strangerPkiFiles().rootCertPem);
    await page.getByRole('button', { name: '添加信任根', exact: true }).click();
    expect(await page.locator('#root-status').textContent()).toBe('已添加：CN=Stranger Root CA,O=Stranger');
    await verify(page);
    expect(await page.locator('[data-step="signature"]').getAttribute('data-status')).toBe('ok');
  });

  it('saved to disk and opened from file://: verifies with the shipped roots and the chain, and loads a link', async () => {
    const res = await fetch(`${server!.url}/verify?download=1`);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="archive-seal-verify-dev-center.html"');
    const saved = join(dir.path, 'saved', 'archive-seal-verify.html');
    mkdirSync(join(dir.path, 'saved'));
    writeFileSync(saved, await res.text());

    const page = await openPage(pathToFileURL(saved).href);
    expect(await page.locator('#offline-note').textContent()).toBe(`这是核验页的离线副本，来自 ${server!.url}。`);
    await chooseCertificate(page, certificate);
    await chooseFile(page, fileName, original);
    await verify(page);
    expect(await page.locator('#verdict').textContent()).toBe('真实：该文件与登记的原件一致，证书有效。');
    expect(await page.locator('[data-step="anchor"]').getAttribute('data-status')).toBe('ok');
    await page.screenshot({ path: join(ARTIFACTS, 'saved-file-url.png'), fullPage: true });

    // A relative link resolves against the center the page was saved from.
    const linked = await openPage(`${pathToFileURL(saved).href}#cert=${certificateLink}`);
    await expect.poll(() => linked.locator('#cert-status').textContent()).toContain('已载入证书');
    expect(await linked.locator('#cert-facts').textContent()).toContain(fileName);
  });

  it('on a phone-sized screen, by keyboard alone: labelled controls in order, no sideways scrolling', async () => {
    const page = await openPage(`${server!.url}/verify#cert=${certificateLink}`, { width: 375, height: 740 });
    await expect.poll(() => page.locator('#cert-status').textContent()).toContain('已载入证书');
    const order: string[] = [];
    for (let i = 0; i < 9; i++) {
      await page.keyboard.press('Tab');
      order.push(await page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName.toLowerCase() || ''));
    }
    expect(order).toEqual(['', 'lang-toggle', 'file-input', 'cert-input', 'cert-link', 'cert-load', 'summary', 'verify-button', 'download-page'].map((id, i) => (i === 0 ? 'a' : id)));
    await chooseFile(page, fileName, original);
    await page.locator('#verify-button').focus();
    await page.keyboard.press('Enter');
    await page.locator('#verdict').waitFor({ timeout: 20_000 });
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('result-heading');
    expect(await page.locator('#verdict').textContent()).toBe('真实：该文件与登记的原件一致，证书有效。');
    // Long links and digests wrap: the layout viewport stays the phone's width.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await page.screenshot({ path: join(ARTIFACTS, 'phone.png'), fullPage: true });
  });

  it("the certificate PDF's QR code decodes to the verify link, which opens the page prefilled", async () => {
    const id = certificateLink.split('/').pop()!;
    const res = await fetch(`${server!.url}/v1/certificates/${id}?format=pdf`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="certificate-${registrationId}.pdf"`);
    const pdfFile = join(dir.path, 'certificate.pdf');
    writeFileSync(pdfFile, Buffer.from(await res.arrayBuffer()));
    const text = execFileSync('pdftotext', ['-layout', pdfFile, '-'], { encoding: 'utf8' });
    expect(text).toContain(fileName);
    expect(text).toContain('婚姻登记档案 / Marriage registration records');
    execFileSync('pdftoppm', ['-r', '150', '-png', '-singlefile', pdfFile, join(dir.path, 'certificate')]);
    const qr = execFileSync('zbarimg', ['-q', '--raw', join(dir.path, 'certificate.png')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    expect(qr).toBe(`${server!.url}/verify#cert=/v1/certificates/${id}`);

    const owner = await fetch(`${server!.url}/v1/registrations/${registrationId}/certificate?format=pdf`, { headers: { authorization: `Bearer ${server!.adminToken}` } });
    expect(owner.headers.get('content-type')).toBe('application/pdf');

    const page = await openPage(qr);
    await expect.poll(() => page.locator('#cert-status').textContent()).toContain('已载入证书');
    expect(await page.locator('#cert-facts').textContent()).toContain(fileName);
    await page.screenshot({ path: join(ARTIFACTS, 'from-qr-code.png'), fullPage: true });
  });

  it('accepts the certificate PDF itself as the certificate: the same verdict and steps as the JSON', async () => {
    const id = certificateLink.split('/').pop()!;
    const pdf = Buffer.from(await (await fetch(`${server!.url}/v1/certificates/${id}?format=pdf`)).arrayBuffer());
    const page = await openPage(`${server!.url}/verify`);
    await page.getByLabel(/证书文件（JSON）/).setInputFiles({ name: `certificate-${registrationId}.pdf`, mimeType: 'application/pdf', buffer: pdf });
    await expect.poll(() => page.locator('#cert-status').textContent()).toContain(`已载入证书（来源：certificate-${registrationId}.pdf）`);
    expect(await page.locator('#cert-facts').textContent()).toContain(fileName);
    await chooseFile(page, fileName, original);
    await verify(page);
    expect(await page.locator('#verdict').textContent()).toBe('真实：该文件与登记的原件一致，证书有效。');
    expect(await stepStates(page)).toEqual(['format:ok', 'signature:ok', 'file-digests:ok', 'record-digest:ok', 'leaf:ok', 'merkle-path:ok', 'timestamp:ok', 'long-term:ok', 'anchor:ok']);

    // A PDF that carries no certificate is refused with a reason, not taken for one.
    const plain = Buffer.from(pdf);
    for (let at = plain.indexOf('.json)'); at >= 0; at = plain.indexOf('.json)', at + 1)) plain.write('.jsox)', at, 'latin1');
    await page.getByLabel(/证书文件（JSON）/).setInputFiles({ name: 'other.pdf', mimeType: 'application/pdf', buffer: plain });
    await expect.poll(() => page.locator('#cert-status').textContent()).toContain('该 PDF 未附带电子证书');
  });

  it('shows rare characters of names (CJK Extension B: 𠮷 𡈽) in the certificate facts', async () => {
    const rare = JSON.parse(JSON.stringify(certificate)) as Certificate;
    rare.content.record.fileName = '𠮷野𡈽子-婚姻登记表.pdf';
    const page = await openPage(`${server!.url}/verify`);
    await chooseCertificate(page, rare);
    await expect.poll(() => page.locator('#cert-facts').textContent()).toContain('𠮷野𡈽子-婚姻登记表.pdf');
    // The glyphs come from a font that has them (the page's font stack lists Hanazono, SimSun-ExtB, ...):
    // drawn, each is as wide as 田, not a narrow box or nothing.
    const widths = await page.evaluate(() => {
      const probe = document.createElement('span');
      document.querySelector('#cert-facts')!.append(probe);
      const width = (text: string) => {
        probe.textContent = text;
        return probe.getBoundingClientRect().width;
      };
      return { rare: width('𠮷𡈽'), common: width('田田') };
    });
    expect(Math.abs(widths.rare - widths.common)).toBeLessThan(1);
    await page.locator('#cert-facts').screenshot({ path: join(ARTIFACTS, 'rare-characters.png') });
  });
});
