import { createHash } from 'node:crypto';
import { PdfReader, PdfString, serializeValue, type PdfDict, type PdfRef, type PdfValue } from '../core/pdf-objects.js';
import { OID_ATTR_SIGNATURE_TIME_STAMP, OID_DATA } from '../core/pki-oids.js';
import { PkiError } from './pki-error.js';
import { SignedDataSigner, type SigningIdentity } from './signed-data-builder.js';
import type { TimestampAuthority } from './timestamp-authority.js';

export interface PdfSignatureOptions {
  signer: SigningIdentity;
  /** The signature-timestamp token comes from here (PAdES B-T). */
  tsa: TimestampAuthority;
  /** /M of the signature dictionary; default now. */
  signingTime?: Date;
  /** /Reason and /Location, shown by PDF readers. */
  reason?: string;
  location?: string;
}

/** Room for the CMS first reserved: an EC or RSA signature, the signer's chain and a token with the TSA's. */
const FIRST_RESERVE = 8192;

const signers = new WeakMap<SigningIdentity, SignedDataSigner>();

/**
 * Signs a PDF in the manner of PAdES baseline B-T (ETSI EN 319 142-1): an incremental update
 * (ISO 32000-1 §7.5.6) adds an invisible signature field on the first page and a signature
 * dictionary with /SubFilter /ETSI.CAdES.detached, whose /Contents is a detached CMS
 * SignedData over the /ByteRange (the whole file but /Contents itself): signed attributes
 * content-type, message-digest and ESS signing-certificate-v2, no signing-time (the time is /M),
 * and the RFC 3161 token over the signature value as the unsigned signature-time-stamp
 * attribute. `pdfsig` (poppler) and Acrobat validate it. The original bytes are kept unchanged.
 */
export async function signPdf(pdf: Uint8Array, options: PdfSignatureOptions): Promise<Buffer> {
  let reserve = FIRST_RESERVE;
  for (let attempt = 0; attempt < 2; attempt++) {
    const { bytes, contentsAt } = withSignaturePlaceholder(pdf, reserve, options);
    const hexLength = reserve * 2;
    const before = contentsAt; // offset of "<"
    const after = contentsAt + hexLength + 2; // just past ">"
    const byteRange = `[0 ${before} ${after} ${bytes.length - after}]`;
    writePadded(bytes, byteRangeAt(bytes, contentsAt), byteRange);
    const digest = createHash('sha256').update(bytes.subarray(0, before)).update(bytes.subarray(after)).digest();
    let signer = signers.get(options.signer);
    if (!signer) signers.set(options.signer, (signer = new SignedDataSigner(options.signer)));
    const prepared = signer.prepare({ eContentType: OID_DATA, contentDigest: digest, includeCertificates: true });
    const stamp = await options.tsa.timestamp(createHash('sha256').update(prepared.signature).digest());
    const cms = prepared.finish([{ oid: OID_ATTR_SIGNATURE_TIME_STAMP, value: stamp.token }]);
    if (cms.length > reserve) {
      reserve = cms.length + 2048;
      continue;
    }
    bytes.write(Buffer.from(cms).toString('hex'), before + 1, 'latin1');
    return bytes;
  }
  throw new PkiError('INVALID_ARGUMENT', 'the PDF signature does not fit the room reserved for it');
}

const BYTE_RANGE_PLACEHOLDER = `[0 ${'0'.repeat(10)} ${'0'.repeat(10)} ${'0'.repeat(10)}]`;

function byteRangeAt(bytes: Buffer, contentsAt: number): number {
  const at = bytes.lastIndexOf('/ByteRange ', contentsAt, 'latin1');
  if (at < 0) throw new PkiError('INVALID_ARGUMENT', 'no /ByteRange before /Contents');
  return at + '/ByteRange '.length;
}

/** Overwrites the placeholder at `at` with `text`, padded with spaces to the same length. */
function writePadded(bytes: Buffer, at: number, text: string): void {
  if (text.length > BYTE_RANGE_PLACEHOLDER.length) throw new PkiError('INVALID_ARGUMENT', 'the PDF is too large to sign');
  bytes.write(text.padEnd(BYTE_RANGE_PLACEHOLDER.length, ' '), at, 'latin1');
}

/** The PDF with an incremental update holding the signature field, its empty /Contents at `contentsAt`. */
function withSignaturePlaceholder(pdf: Uint8Array, reserve: number, options: PdfSignatureOptions): { bytes: Buffer; contentsAt: number } {
  const reader = new PdfReader(pdf);
  if (reader.startXref < 0) throw new PkiError('INVALID_ARGUMENT', 'the PDF has no cross-reference table to update');
  const size = reader.trailer.get('/Size');
  if (typeof size !== 'number') throw new PkiError('INVALID_ARGUMENT', 'the PDF trailer has no /Size');
  const catalog = reader.catalog();
  if (catalog.dict.has('/AcroForm')) throw new PkiError('INVALID_ARGUMENT', 'the PDF already has a form');
  const page = reader.firstPage();
  const sigRef: PdfRef = { ref: size, gen: 0 };
  const widgetRef: PdfRef = { ref: size + 1, gen: 0 };

  const sig =
    `<</Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange ${BYTE_RANGE_PLACEHOLDER} ` +
    `/Contents <${'0'.repeat(reserve * 2)}> /M ${serializeValue(pdfDate(options.signingTime ?? new Date()))}` +
    (options.reason ? ` /Reason ${serializeValue(textString(options.reason))}` : '') +
    (options.location ? ` /Location ${serializeValue(textString(options.location))}` : '') +
    '>>';
  const widget: PdfDict = new Map<`/${string}`, PdfValue>([
    ['/Type', '/Annot'],
    ['/Subtype', '/Widget'],
    ['/FT', '/Sig'],
    ['/T', textString('Signature1')],
    ['/V', sigRef],
    // Print and Locked (ISO 32000-1 §12.5.3); zero size: the page shows no box.
    ['/F', 132],
    ['/Rect', [0, 0, 0, 0]],
    ['/P', page.ref],
  ]);
  const oldAnnots = reader.resolve(page.dict.get('/Annots'));
  const newPage = new Map(page.dict).set('/Annots', [...(Array.isArray(oldAnnots) ? oldAnnots : []), widgetRef]);
  const newCatalog = new Map(catalog.dict).set('/AcroForm', new Map<`/${string}`, PdfValue>([['/Fields', [widgetRef]], ['/SigFlags', 3]]));

  const base = Buffer.from(pdf);
  const head = base[base.length - 1] === 0x0a ? '' : '\n';
  const objects: [number, string][] = [
    [sigRef.ref, sig],
    [widgetRef.ref, serializeValue(widget)],
    [page.ref.ref, serializeValue(newPage)],
    [catalog.ref.ref, serializeValue(newCatalog)],
  ];
  let text = head;
  const offsets = new Map<number, number>();
  for (const [num, body] of objects) {
    offsets.set(num, base.length + text.length);
    text += `${num} 0 obj\n${body}\nendobj\n`;
  }
  const xrefAt = base.length + text.length;
  text += 'xref\n';
  for (const num of [...offsets.keys()].sort((a, b) => a - b)) {
    text += `${num} 1\n${String(offsets.get(num)).padStart(10, '0')} 00000 n\r\n`;
  }
  const trailer = new Map<`/${string}`, PdfValue>([
    ['/Size', size + 2],
    ['/Root', catalog.ref],
    ['/Prev', reader.startXref],
  ]);
  for (const key of ['/Info', '/ID'] as const) {
    const v = reader.trailer.get(key);
    if (v !== undefined) trailer.set(key, v);
  }
  text += `trailer\n${serializeValue(trailer)}\nstartxref\n${xrefAt}\n%%EOF\n`;
  const bytes = Buffer.concat([base, Buffer.from(text, 'latin1')]);
  const contentsAt = bytes.indexOf('/Contents <', base.length, 'latin1') + '/Contents '.length;
  return { bytes, contentsAt };
}

/** A text string (ISO 32000-1 §7.9.2.2): UTF-16BE with its byte-order mark. */
function textString(text: string): PdfString {
  const bytes = Buffer.alloc(2 + text.length * 2);
  bytes[0] = 0xfe;
  bytes[1] = 0xff;
  for (let i = 0; i < text.length; i++) bytes.writeUInt16BE(text.charCodeAt(i), 2 + 2 * i);
  return new PdfString(bytes);
}

/** D:YYYYMMDDHHmmSSZ (ISO 32000-1 §7.9.4), in UTC. */
function pdfDate(date: Date): PdfString {
  const iso = date.toISOString();
  return new PdfString(Buffer.from(`D:${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`, 'latin1'));
}
