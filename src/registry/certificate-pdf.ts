import { createRequire } from 'node:module';
import QRCode from 'qrcode';
import type { Certificate } from '../core/certificate.js';
import { findCategory } from '../core/categories.js';
import { certificateAttachmentName } from '../core/pdf-attachment.js';
import type { Registrant } from '../core/record.js';
import { fontRuns, pdfFonts } from './pdf-fonts.js';

export interface CertificatePdfOptions {
  /** The browser verifier with this certificate prefilled: what the QR code holds. */
  verifyUrl: string;
  /** Zone for the local times printed beside UTC; default the center's, Asia/Shanghai. */
  timeZone?: string;
}

// The fonts (pdf-fonts.ts): pdfkit embeds only the glyphs used, and each subset keeps a
// ToUnicode map, so `pdftotext` gives the Chinese back, rare characters included.

/** pdfkit through `require`: its types describe the CommonJS export (`export =`), not the ESM build. */
const PDFDocument: typeof import('pdfkit') = createRequire(import.meta.url)('pdfkit');

const A4 = { width: 595.28, height: 841.89 };
const MARGIN = 48;
const LABEL_WIDTH = 160;
const QR_SIZE = 112;

/**
 * The certificate as a printable A4 page in Chinese and English: the registered file, its
 * digests, registrant, time, category, period and root, the RFC 3161 timestamp, every anchor,
 * the issuer, and a QR code (vector squares) that opens the browser verifier with the
 * certificate prefilled; every page's foot names the registration and "page n/m". The signed
 * certificate JSON, exactly as the API gives it, is attached to the PDF (an embedded file that
 * the catalog lists as an associated file, /AFRelationship /Source), so the PDF itself can be
 * verified. The result is unsigned: see CertificatePdfs for the signed one.
 */
export async function renderCertificatePdf(certificate: Certificate, options: CertificatePdfOptions): Promise<Buffer> {
  const { content } = certificate;
  const { record } = content;
  const zone = options.timeZone ?? 'Asia/Shanghai';
  const fonts = pdfFonts();

  const doc = new PDFDocument({
    size: 'A4',
    margins: { top: MARGIN, bottom: MARGIN, left: MARGIN, right: MARGIN },
    info: {
      Title: `电子文件登记备份证书 Certificate of registration — ${record.fileName ?? `#${record.registrationId}`}`,
      Author: content.issuer.name,
      Subject: `archive-seal/certificate@1, registration ${record.registrationId}, period ${content.period.id}`,
      Creator: 'Archive Seal',
    },
    autoFirstPage: true,
    bufferPages: true,
  });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  for (const font of fonts) doc.registerFont(font.name, font.bytes);
  doc.font('cjk');
  attachCertificate(doc, certificate);

  const width = A4.width - 2 * MARGIN;
  if (content.issuer.development) {
    // Plain words, no watermark art: a printed development certificate must not pass as evidence.
    const y = doc.y;
    doc.rect(MARGIN, y, width, 34).fillAndStroke('#fde2e1', '#b42318');
    doc.fillColor('#b42318').fontSize(13).text('DEVELOPMENT — NOT FOR EVIDENCE / 开发用途，不作为证据', MARGIN, y + 10, { width, align: 'center' });
    doc.fillColor('black');
    doc.y = y + 46;
  }

  doc.fontSize(18).text('电子文件登记备份证书', MARGIN, doc.y, { width, align: 'center' });
  doc.fontSize(11).fillColor('#333').text('Certificate of Registration and Backup of an Electronic Record', { width, align: 'center' });
  doc.moveDown(0.3);
  doc.fontSize(9);
  mixedText(doc, `${content.issuer.name}（${content.issuer.center}）`, undefined, undefined, { width, align: 'center' });
  doc.fillColor('black').moveDown(0.8);

  const category = findCategory(record.category);
  const rows: Row[] = [
    { zh: '文件名', en: 'File name', value: record.fileName ?? '—' },
    ...(record.title !== undefined ? [{ zh: '题名', en: 'Title', value: record.title }] : []),
    { zh: '登记号', en: 'Registration no.', value: `${record.registrationId}（${record.center}）` },
    { zh: '登记人', en: 'Registrant', value: registrantText(record.registrant) },
    { zh: '登记时间', en: 'Registered at', value: timeText(record.registeredAt, zone) },
    { zh: '类别', en: 'Category', value: category ? `${category.zh} / ${category.en}（${category.code}）` : record.category },
    ...(record.size !== undefined ? [{ zh: '文件大小', en: 'Size', value: `${record.size.toLocaleString('en-US')} 字节 bytes` }] : []),
    ...(record.metadata && Object.keys(record.metadata).length > 0 ? [{ zh: '档案元数据', en: 'Archival metadata', value: metadataText(record.metadata) }] : []),
    { zh: '保存方式', en: 'Deposit', value: record.deposit === 'file' ? '原件已备份 / original deposited' : '仅登记摘要 / digests only' },
    { zh: 'SHA-256', en: '', value: record.digests.sha256, mono: true },
    record.digests.sm3 !== undefined
      ? { zh: 'SM3', en: '(GB/T 32905)', value: record.digests.sm3, mono: true }
      : { zh: 'SM3', en: '(GB/T 32905)', value: '—（未提供 / not given）' },
    { zh: '登记期', en: 'Period', value: `第 ${content.period.id} 期 / period ${content.period.id}，${content.period.leafCount} 项 entries` },
    { zh: '封存时间', en: 'Sealed at', value: timeText(content.period.sealedAt, zone) },
    { zh: '期根值', en: 'Period root', value: content.period.root, mono: true },
    { zh: '时间戳', en: 'Timestamp (RFC 3161)', value: timeText(content.timestamp.genTime, zone) },
    { zh: '时间戳机构', en: 'TSA', value: `${content.timestamp.tsa}（序列号 serial ${content.timestamp.serial}）` },
  ];
  content.anchors.forEach((a, i) => {
    const n = content.anchors.length > 1 ? ` ${i + 1}` : '';
    rows.push(
      { zh: `区块链${n}`, en: `Chain${n}`, value: `${a.chain}（chain id ${a.chainId}）` },
      { zh: '合约地址', en: 'Contract', value: a.contract, mono: true },
      { zh: '交易哈希', en: 'Tx hash', value: a.txHash, mono: true },
      { zh: '区块', en: 'Block', value: `${a.blockNumber}，${timeText(a.blockTime, zone)}` },
      { zh: '区块哈希', en: 'Block hash', value: a.blockHash, mono: true },
    );
  });
  rows.push(
    { zh: '签发机构', en: 'Issuer', value: `${content.issuer.name}（${content.issuer.center}）` },
    { zh: '签发时间', en: 'Issued at', value: timeText(content.issuedAt, zone) },
  );
  for (const row of rows) fieldRow(doc, row, width);

  // The QR code and how to check, kept together at the foot of the page.
  const footTop = Math.max(doc.y + 14, A4.height - MARGIN - QR_SIZE - 8);
  if (footTop + QR_SIZE > A4.height - MARGIN) doc.addPage();
  const top = footTop + QR_SIZE > A4.height - MARGIN ? MARGIN : footTop;
  drawQrCode(doc, options.verifyUrl, A4.width - MARGIN - QR_SIZE, top, QR_SIZE);
  const textWidth = width - QR_SIZE - 16;
  doc.fontSize(9).fillColor('black').text('核验方法 / How to verify', MARGIN, top, { width: textWidth });
  doc
    .fontSize(8)
    .fillColor('#333')
    .text(
      '扫描二维码或打开下方链接，在浏览器中选择原文件即可核验；文件只在您的浏览器中计算摘要，不会上传。' +
        '也可用 archive-seal verify 命令或 openssl 独立核验。本打印件供阅读，核验依据是链接所指的、由中心签名的电子证书。',
      { width: textWidth },
    )
    .moveDown(0.3)
    .text(
      'Scan the QR code or open the link below, then choose the original file: it is hashed in your browser and never uploaded. ' +
        'It can also be checked with the archive-seal verify command or with openssl. This print is for reading; the evidence is the signed certificate the link points to.',
      { width: textWidth },
    )
    .moveDown(0.3)
    .fillColor('#1d4ed8')
    .text(options.verifyUrl, { width: textWidth, link: options.verifyUrl });
  pageFooters(doc, `登记号 Registration no. ${record.registrationId}（${record.center}）`);
  doc.end();
  return done;
}

/** The certificate JSON as the API gives it, attached (see certificate-json-from-pdf in core). */
function attachCertificate(doc: PDFKit.PDFDocument, certificate: Certificate): void {
  // pdfkit lists an attachment in the catalog's /AF (associated files) only when that array
  // exists, as it does for PDF/A-3; this PDF is not PDF/A, but the association is the same.
  const root = (doc as unknown as { _root: { data: { AF?: unknown[] } } })._root;
  root.data.AF ??= [];
  const issuedAt = new Date(certificate.content.issuedAt);
  doc.file(Buffer.from(JSON.stringify(certificate), 'utf8'), {
    name: certificateAttachmentName(certificate.content.record.registrationId),
    type: 'application/json',
    description: '签名的电子证书（archive-seal/certificate@1），可用 archive-seal verify 或核验页核验 / the signed certificate',
    relationship: 'Source',
    ...(!Number.isNaN(issuedAt.getTime()) && { creationDate: issuedAt, modifiedDate: issuedAt }),
  } as PDFKit.Mixins.PDFAttachmentOptions & { relationship: string });
}

/** "登记号 … · 第 n 页 / 共 m 页 · page n/m" in the bottom margin of every page. */
function pageFooters(doc: PDFKit.PDFDocument, registration: string): void {
  const { start, count } = doc.bufferedPageRange();
  for (let i = start; i < start + count; i++) {
    doc.switchToPage(i);
    const n = i - start + 1;
    // Inside the bottom margin: with the margin left in place pdfkit would start a new page.
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    doc.font('cjk').fontSize(7.5).fillColor('#666');
    mixedText(doc, `${registration} · 第 ${n} 页 / 共 ${count} 页 · page ${n}/${count}`, MARGIN, A4.height - MARGIN + 18, {
      width: A4.width - 2 * MARGIN,
      align: 'center',
      lineBreak: false,
    });
    doc.page.margins.bottom = bottom;
  }
  doc.fillColor('black');
}

/** Text set in the first font that has each character (see fontRuns), as one paragraph. */
function mixedText(doc: PDFKit.PDFDocument, text: string, x: number | undefined, y: number | undefined, options: PDFKit.Mixins.TextOptions): void {
  const runs = fontRuns(text);
  runs.forEach((run, i) => {
    doc.font(run.font);
    const more = { ...options, continued: i < runs.length - 1 };
    if (i === 0 && x !== undefined) doc.text(run.text, x, y, more);
    else doc.text(run.text, more);
  });
  doc.font('cjk');
}

interface Row {
  zh: string;
  en: string;
  value: string;
  /** Hex: set in Courier, which has no ligatures ("ff" stays two letters) and lines digits up. */
  mono?: boolean;
}

function fieldRow(doc: PDFKit.PDFDocument, row: Row, width: number): void {
  const valueWidth = width - LABEL_WIDTH;
  const valueFont = row.mono ? 'Courier' : 'cjk';
  const valueSize = row.mono ? 8 : 9;
  doc.font(valueFont).fontSize(valueSize);
  const valueHeight = doc.heightOfString(row.value, { width: valueWidth });
  doc.font('cjk').fontSize(9);
  const labelHeight = doc.heightOfString(`${row.zh} ${row.en}`, { width: LABEL_WIDTH - 8 });
  const height = Math.max(valueHeight, labelHeight) + 5;
  if (doc.y + height > A4.height - MARGIN) doc.addPage();
  const y = doc.y;
  const page = doc.page;
  doc.fillColor('black').text(`${row.zh} `, MARGIN, y, { width: LABEL_WIDTH - 8, continued: row.en !== '' });
  if (row.en !== '') doc.fillColor('#666').fontSize(7.5).text(row.en);
  doc.fontSize(valueSize).fillColor('black');
  if (row.mono) doc.font(valueFont).text(row.value, MARGIN + LABEL_WIDTH, y + 1, { width: valueWidth });
  else mixedText(doc, row.value, MARGIN + LABEL_WIDTH, y, { width: valueWidth });
  doc.font('cjk');
  // A value taller than a page went on over the next one(s): the row ends where its text did.
  const bottom = doc.page === page ? y + height : doc.y + 5;
  doc.moveTo(MARGIN, bottom - 2.5).lineTo(MARGIN + width, bottom - 2.5).lineWidth(0.3).strokeColor('#bbb').stroke();
  doc.x = MARGIN;
  doc.y = bottom;
}

/** The QR code as filled squares (one rectangle per run of dark modules), with a 4-module quiet zone. */
function drawQrCode(doc: PDFKit.PDFDocument, text: string, x: number, y: number, size: number): void {
  const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const n = qr.modules.size;
  const quiet = 4;
  const cell = size / (n + 2 * quiet);
  doc.save().rect(x, y, size, size).fill('white');
  for (let row = 0; row < n; row++) {
    let col = 0;
    while (col < n) {
      if (!qr.modules.get(row, col)) {
        col++;
        continue;
      }
      const start = col;
      while (col < n && qr.modules.get(row, col)) col++;
      doc.rect(x + (quiet + start) * cell, y + (quiet + row) * cell, (col - start) * cell, cell);
    }
  }
  doc.fill('black').restore();
}

/** Names of common DA/T 46 style fields; others are shown by their key. */
const METADATA_NAMES: Readonly<Record<string, string>> = { fondsCode: '全宗号', archivalCode: '档号', retentionPeriod: '保管期限' };

function metadataText(metadata: Record<string, unknown>): string {
  return Object.entries(metadata)
    .map(([key, value]) => `${METADATA_NAMES[key] ? `${METADATA_NAMES[key]} ` : ''}${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join('\n');
}

function registrantText(r: Registrant): string {
  return 'pseudonym' in r ? `${r.pseudonym}（化名 pseudonym）` : `${r.name}（${r.id}）`;
}

/** UTC as recorded, and the same instant in the center's zone, e.g. 北京时间 for Asia/Shanghai. */
function timeText(iso: string, zone: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const local = new Intl.DateTimeFormat('sv-SE', {
    timeZone: zone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).format(date);
  return `${iso}（${zone === 'Asia/Shanghai' ? '北京时间' : zone} ${local}）`;
}
