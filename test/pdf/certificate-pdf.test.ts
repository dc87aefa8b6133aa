import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { certificateJsonFromPdf } from '../../src/core/pdf-attachment.js';
import { renderCertificatePdf } from '../../src/registry/certificate-pdf.js';
import { fontRuns, pdfFontProblem, pdfFonts } from '../../src/registry/pdf-fonts.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { copyOf, loadCertificateVector } from '../verify/certificate-fixture.js';

// The printable certificate, read back the way an outsider would: its text with poppler's
// pdftotext, its QR code with zbarimg from a 150 dpi rendering.
const dir = makeTempDir('archive-seal-pdf-');
afterAll(() => dir.remove());
const { certificate } = loadCertificateVector();
const verifyUrl = 'https://records.example.gov.cn/verify#cert=/v1/certificates/YJaDc4D-hmQNlheRRE228w';

function readBack(pdf: Buffer, name: string): { text: string; pages: number; qr: string } {
  const file = join(dir.path, `${name}.pdf`);
  writeFileSync(file, pdf);
  const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
  const pages = Number(/Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [file], { encoding: 'utf8' }))?.[1]);
  execFileSync('pdftoppm', ['-r', '150', '-png', '-singlefile', file, join(dir.path, name)]);
  const qr = execFileSync('zbarimg', ['-q', '--raw', join(dir.path, `${name}.png`)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  return { text, pages, qr };
}

describe('the certificate PDF', () => {
  it('prints every field in Chinese and English on one A4 page, and its text survives pdftotext', async () => {
    const pdf = await renderCertificatePdf(certificate, { verifyUrl });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const { text, pages } = readBack(pdf, 'dev');
    expect(pages).toBe(1);
    const { record, period, timestamp, anchors, issuer } = certificate.content;
    const anchor = anchors[0]!;
    const expected = [
      'DEVELOPMENT — NOT FOR EVIDENCE / 开发用途，不作为证据',
      '电子文件登记备份证书',
      'Certificate of Registration and Backup of an Electronic Record',
      '文件名 File name', record.fileName!,
      '题名 Title', record.title!,
      '登记号 Registration no.', `${record.registrationId}（dev-center）`,
      '登记人 Registrant', 'admin（account:1）',
      '登记时间 Registered at', `${record.registeredAt}（北京时间 2026-11-26 00:50:55）`,
      '类别 Category', '婚姻登记档案 / Marriage registration records（livelihood.marriage）',
      '档号 archivalCode: J001-2026-Y-0001', '保管期限 retentionPeriod: 永久',
      'SHA-256', record.digests.sha256,
      'SM3 (GB/T 32905)', record.digests.sm3!,
      '登记期 Period', `第 ${period.id} 期 / period ${period.id}`,
      '期根值 Period root', period.root,
      '时间戳 Timestamp (RFC 3161)', timestamp.genTime,
      '时间戳机构 TSA', 'CN=Archive Seal DEVELOPMENT TSA',
      '区块链 Chain', `${anchor.chain}（chain id ${anchor.chainId}）`,
      '合约地址 Contract', anchor.contract,
      '交易哈希 Tx hash', anchor.txHash,
      '区块 Block', `${anchor.blockNumber}，${anchor.blockTime}`,
      '区块哈希 Block hash', anchor.blockHash,
      '签发机构 Issuer', issuer.name,
      '核验方法 / How to verify', verifyUrl,
    ];
    for (const fragment of expected) expect(text, fragment).toContain(fragment);
    expect(pdf.length).toBeLessThan(80_000);
  });

  it('holds the verify link in a QR code that zbarimg decodes', async () => {
    const { qr } = readBack(await renderCertificatePdf(certificate, { verifyUrl }), 'qr');
    expect(qr).toBe(verifyUrl);
  });

  it('prints no development banner for a certificate of the production PKI, and local times in the given zone', async () => {
    const production = copyOf(certificate);
    production.content.issuer.development = false;
    const { text } = readBack(await renderCertificatePdf(production, { verifyUrl, timeZone: 'Europe/Berlin' }), 'production');
    expect(text).not.toContain('NOT FOR EVIDENCE /');
    expect(text).not.toContain('开发用途');
    expect(text).toContain(`${production.content.record.registeredAt}（Europe/Berlin 2026-11-25 17:50:55）`);
  });

  it('renders rare characters of names and titles (CJK Extension A and B) with the fallback font, and pdftotext gives them back', async () => {
    const rare = copyOf(certificate);
    rare.content.record.title = '𠮷田家族谱（䶮）';
    rare.content.record.registrant = { id: 'account:7', name: '𡈽屋𠮷子' } as typeof rare.content.record.registrant;
    const { text } = readBack(await renderCertificatePdf(rare, { verifyUrl }), 'rare');
    expect(text).toContain('𠮷田家族谱（䶮）');
    expect(text).toContain('𡈽屋𠮷子（account:7）');
    expect(text).not.toContain('〔U+');
    // The runs: Noto Sans SC where it has the glyph, Hanazono Mincho for the rest.
    expect(fontRuns('𠮷田 a（𡈽）')).toEqual([
      { font: 'HanaMinA', text: '𠮷' },
      { font: 'cjk', text: '田 a（' },
      { font: 'HanaMinA', text: '𡈽' },
      { font: 'cjk', text: '）' },
    ]);
  });

  it('without fonts-hanazono, the start-up problem names the package to install', () => {
    expect(pdfFontProblem()).toBeUndefined();
    expect(pdfFontProblem([dir.path])).toMatch(/HanaMinA, HanaMinB.*apt-get install fonts-hanazono$/);
  });

  it('prints a character that no font has as its code point, not as a blank box', () => {
    const [noto] = pdfFonts();
    expect(fontRuns('名\u{3134A}', [noto!])).toEqual([{ font: 'cjk', text: '名〔U+3134A〕' }]);
  });

  it('carries the registration number and "page n/m" on every page', async () => {
    const long = copyOf(certificate);
    long.content.record.metadata = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`field${i}`, `第 ${i} 项元数据`]));
    const file = join(dir.path, 'long.pdf');
    writeFileSync(file, await renderCertificatePdf(long, { verifyUrl }));
    const pages = Number(/Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [file], { encoding: 'utf8' }))?.[1]);
    expect(pages).toBeGreaterThanOrEqual(2);
    const id = long.content.record.registrationId;
    for (let n = 1; n <= pages; n++) {
      const page = execFileSync('pdftotext', ['-f', String(n), '-l', String(n), '-layout', file, '-'], { encoding: 'utf8' });
      expect(page).toContain(`登记号 Registration no. ${id}（dev-center） · 第 ${n} 页 / 共 ${pages} 页 · page ${n}/${pages}`);
    }
    // The text goes on where the overflowing row ended: no page is left all but empty.
    expect(pages).toBe(3);
  });

  it('attaches the certificate JSON exactly as the API gives it', async () => {
    const pdf = await renderCertificatePdf(certificate, { verifyUrl });
    expect(await certificateJsonFromPdf(pdf)).toBe(JSON.stringify(certificate));
  });
});
