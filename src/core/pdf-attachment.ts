import { isDict, isRef, PdfReader, PdfString, type PdfDict, type PdfValue } from './pdf-objects.js';

/**
 * The printed certificate carries the signed certificate JSON, byte for byte as the API gives
 * it, as an embedded file (ISO 32000-1 §7.11.4) that the catalog also lists as an associated
 * file (/AF, ISO 32000-2 §14.13, as PDF/A-3 does), so the PDF itself can be handed to
 * `archive-seal verify` or the browser verifier. The PDF signature does not come into it:
 * the JSON inside carries its own CMS signature, and verification judges that.
 */

/** The attachment's file name in the PDF: what a PDF reader lists under attachments. */
export function certificateAttachmentName(registrationId: number | string): string {
  return `certificate-${registrationId}.json`;
}

/** True when the bytes start like a PDF (`%PDF-`). */
export function looksLikePdf(bytes: Uint8Array): boolean {
  return bytes.length >= 5 && bytes[0] === 0x25 && bytes[1] === 0x50 && bytes[2] === 0x44 && bytes[3] === 0x46 && bytes[4] === 0x2d;
}

/** A certificate is some kilobytes; this bounds what an attachment may inflate to. */
const MAX_ATTACHMENT_BYTES = 4 * 1024 * 1024;

export class PdfAttachmentError extends Error {
  override readonly name = 'PdfAttachmentError';
  constructor(
    readonly code: 'PDF_UNREADABLE' | 'PDF_NO_CERTIFICATE',
    message: string,
  ) {
    super(message);
  }
}

/**
 * The certificate JSON text attached to a certificate PDF: the catalog's associated files
 * first, then the embedded-files name tree, the first attachment whose name ends in `.json`.
 * Works on the PDF as signed (the signature is an incremental update: the newest objects are
 * read). Flate-compressed attachments are inflated with the platform's DecompressionStream.
 */
export async function certificateJsonFromPdf(bytes: Uint8Array): Promise<string> {
  let reader: PdfReader;
  let stream: { dict: PdfDict; data: Uint8Array } | undefined;
  try {
    reader = new PdfReader(bytes);
    stream = findJsonAttachment(reader);
  } catch (err) {
    throw new PdfAttachmentError('PDF_UNREADABLE', `the PDF cannot be read: ${(err as Error).message}`);
  }
  if (!stream) throw new PdfAttachmentError('PDF_NO_CERTIFICATE', 'the PDF carries no certificate attachment (a .json embedded file); give the certificate JSON instead');
  const data = await decodeStream(reader, stream);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    throw new PdfAttachmentError('PDF_UNREADABLE', 'the PDF\'s certificate attachment is not UTF-8 text');
  }
}

function findJsonAttachment(reader: PdfReader): { dict: PdfDict; data: Uint8Array } | undefined {
  const catalog = reader.catalog().dict;
  const specs: PdfValue[] = [];
  const af = reader.resolve(catalog.get('/AF'));
  if (Array.isArray(af)) specs.push(...af);
  const names = reader.resolve(catalog.get('/Names'));
  if (isDict(names)) collectNameTree(reader, reader.resolve(names.get('/EmbeddedFiles')), specs, 0);
  for (const entry of specs) {
    const spec = reader.resolve(entry);
    if (!isDict(spec)) continue;
    const name = [spec.get('/UF'), spec.get('/F')].map((v) => reader.resolve(v)).find((v): v is PdfString => v instanceof PdfString);
    if (!name || !/\.json$/i.test(name.text())) continue;
    const ef = reader.resolve(spec.get('/EF'));
    if (!isDict(ef)) continue;
    const file = ef.get('/F') ?? ef.get('/UF');
    if (!isRef(file)) continue;
    const { stream } = reader.object(file.ref);
    if (stream) return stream;
  }
  return undefined;
}

/** Name tree (§7.9.6): /Names [key value …] at the leaves, /Kids above them. */
function collectNameTree(reader: PdfReader, node: PdfValue | undefined, out: PdfValue[], depth: number): void {
  if (!isDict(node) || depth > 16) return;
  const names = reader.resolve(node.get('/Names'));
  if (Array.isArray(names)) for (let i = 1; i < names.length; i += 2) out.push(names[i] as PdfValue);
  const kids = reader.resolve(node.get('/Kids'));
  if (Array.isArray(kids)) for (const kid of kids) collectNameTree(reader, reader.resolve(kid), out, depth + 1);
}

async function decodeStream(reader: PdfReader, stream: { dict: PdfDict; data: Uint8Array }): Promise<Uint8Array> {
  const filter = reader.resolve(stream.dict.get('/Filter'));
  const filters = filter === undefined || filter === null ? [] : Array.isArray(filter) ? filter : [filter];
  if (filters.length === 0) return stream.data;
  if (filters.length !== 1 || filters[0] !== '/FlateDecode') {
    throw new PdfAttachmentError('PDF_UNREADABLE', `the certificate attachment is encoded with ${filters.map(String).join(' ')}; only FlateDecode is read`);
  }
  // FlateDecode is the zlib format (RFC 1950), DecompressionStream's "deflate".
  const inflated = new Blob([stream.data.slice()]).stream().pipeThrough(new DecompressionStream('deflate'));
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    const it = inflated.getReader();
    for (;;) {
      const { done, value } = await it.read();
      if (done) break;
      size += value.length;
      if (size > MAX_ATTACHMENT_BYTES) {
        await it.cancel();
        throw new PdfAttachmentError('PDF_UNREADABLE', `the certificate attachment inflates to more than ${MAX_ATTACHMENT_BYTES} bytes`);
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof PdfAttachmentError) throw err;
    throw new PdfAttachmentError('PDF_UNREADABLE', `the certificate attachment cannot be inflated: ${(err as Error).message}`);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
