import { Hono, type Context } from 'hono';
import { createHash } from 'node:crypto';
import { jsonRpcOverHttp } from '../core/json-rpc.js';
import type { JsonRpcRequest } from '../core/anchor-check.js';
import type { CertificateContent } from '../core/certificate.js';
import { certificateJsonFromPdf, looksLikePdf, PdfAttachmentError } from '../core/pdf-attachment.js';
import { verifyCertificate, withStep } from '../core/verify-certificate.js';
import type { RegistryCheck } from '../registry/registry-check.js';
import { readTrustRoots } from '../web/trust-roots.js';
import { nodeSignatureEngine } from '../pki/node-signature-engine.js';
import type { AnchoringService } from '../anchor/anchoring-service.js';
import type { CertificateIssuer, IssuedCertificate } from '../registry/certificate-issuer.js';
import type { CertificatePdfs } from '../registry/certificate-pdfs.js';
import { RegistryError } from '../registry/registry-error.js';
import type { CenterPki } from '../pki/center-pki.js';
import { PkiError } from '../pki/pki-error.js';
import { ApiError } from './api-error.js';
import { malformed } from './multipart-upload.js';
import type { AppEnv } from './app-env.js';
import { publicBaseUrl, verifyLink } from './web-routes.js';
import { readJsonBody, requestBodyStream, requestHeader } from './request-body.js';
import busboy from 'busboy';

/**
 * `/v1/certificates/:id`: a certificate by its public link (what the PDF's QR code opens);
 * `?format=pdf` the printable certificate. Readable from any origin, so a verifier page saved
 * to disk can fetch it.
 */
export function certificateRoutes(deps: { certificates: CertificateIssuer } & CertificatePdfDeps) {
  return new Hono<AppEnv>().get('/:id', async (c) => {
    c.header('Access-Control-Allow-Origin', '*');
    const issued = deps.certificates.byId(c.req.param('id'));
    if (c.req.query('format') === 'pdf') return certificatePdfResponse(c, issued, deps);
    return c.json(issued.certificate);
  });
}

export interface CertificatePdfDeps {
  publicUrl: string | undefined;
  certificatePdfs: CertificatePdfs;
}

/** The signed certificate PDF as a download; its QR code opens the verifier with it prefilled. */
export async function certificatePdfResponse(c: Context<AppEnv>, issued: IssuedCertificate, deps: CertificatePdfDeps): Promise<Response> {
  let pdf: Buffer;
  try {
    pdf = await deps.certificatePdfs.signed(issued, verifyLink(publicBaseUrl(c, deps.publicUrl), issued.id));
  } catch (err) {
    // An outside TSA that is down or refuses: the PDF's signature needs its timestamp.
    if (err instanceof PkiError && err.code.startsWith('TSA_')) {
      throw new ApiError(503, 'INTERNAL', `the PDF cannot be signed now: the timestamp authority failed (${err.message}); try again later, or take the certificate JSON (without ?format=pdf)`, { cause: err });
    }
    throw err;
  }
  c.header('Content-Type', 'application/pdf');
  c.header('Content-Disposition', `attachment; filename="certificate-${issued.certificate.content.record.registrationId}.pdf"`);
  return c.body(new Uint8Array(pdf));
}

export interface VerifyRouteDeps {
  pki: CenterPki;
  /** Roots for the timestamp tokens when they come from an outside TSA (ARCHIVE_SEAL_TSA_TRUST); default the center's. */
  timestampTrustRoots?: readonly string[];
  anchoring: AnchoringService;
  maxUploadBytes: number;
  /** The center's own registry, against which a certificate naming this center is compared. */
  registryCheck: RegistryCheck;
}

/**
 * `POST /v1/verify`: anyone checks a certificate against a file (multipart: `certificate` and
 * `file`, the file hashed as it streams and never kept; the certificate as its JSON, or as the
 * certificate PDF with the JSON attached, as the verifier page and `archive-seal verify` take it)
 * or against digests (JSON:
 * `{ certificate, digests: { sha256, sm3? } }`), with the center's trust roots and the chains'
 * public JSON-RPC endpoints. Answers the step-by-step report and its verdict. A certificate
 * naming this center is also compared with its registry (step `registry`). Development keys and
 * chains are never accepted here: no request can ask for it, so the center's answer cannot be
 * quoted as AUTHENTIC for what anyone could have signed.
 */
export function verifyRoutes(deps: VerifyRouteDeps) {
  const roots = deps.pki.roots.map((r) => r.pem);
  let rpc: Promise<Map<number, JsonRpcRequest>> | undefined;
  const endpoints = () =>
    (rpc ??= (async () => {
      const map = new Map<number, JsonRpcRequest>();
      for (const chain of deps.anchoring.configuredChains) {
        map.set(chain.settings.chainId, jsonRpcOverHttp(chain.settings.rpcUrl, fetch));
      }
      return map;
    })());
  return new Hono<AppEnv>().post('/', async (c) => {
    let certificate: unknown;
    let file: { sha256: string; sm3?: string } | undefined;
    if (/^multipart\/form-data/i.test(requestHeader(c, 'content-type') ?? '')) {
      ({ certificate, file } = await receiveVerifyUpload(c, deps.maxUploadBytes));
    } else {
      const body = (await readJsonBody(c, MAX_CERTIFICATE_BYTES)) as { certificate?: unknown; digests?: { sha256?: unknown; sm3?: unknown } } | null;
      certificate = body?.certificate;
      const d = body?.digests;
      if (typeof d?.sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(d.sha256) || (d.sm3 !== undefined && (typeof d.sm3 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(d.sm3)))) {
        throw new RegistryError('INVALID_DIGEST', 'send { "certificate": {…}, "digests": { "sha256": "<64 hex>", "sm3"?: "<64 hex>" } }, or the file itself as multipart');
      }
      file = { sha256: d.sha256, ...(typeof d.sm3 === 'string' && { sm3: d.sm3 }) };
    }
    if (certificate === undefined) throw new RegistryError('INVALID_INPUT', 'no certificate given');
    let report = await verifyCertificate({
      certificate,
      ...(file && { file }),
      trustRoots: roots,
      ...(deps.timestampTrustRoots && { timestampTrustRoots: deps.timestampTrustRoots }),
      rpc: await endpoints(),
      engine: nodeSignatureEngine,
    });
    // Only a certificate that could be read has facts to compare (report.subject says it was).
    const content = (certificate as { content: CertificateContent }).content;
    if (report.subject && deps.registryCheck.names(content)) report = withStep(report, deps.registryCheck.step(content));
    return c.json(report);
  });
}

/** A certificate file is some kilobytes; 4 MiB leaves room for many anchors and long metadata. */
const MAX_CERTIFICATE_BYTES = 4 * 1024 * 1024;
/** A certificate PDF carries its fonts (subsets) and the JSON: some hundred kilobytes; 16 MiB is ample. */
export const MAX_CERTIFICATE_PDF_BYTES = 16 * 1024 * 1024;

async function receiveVerifyUpload(c: Context<AppEnv>, maxBytes: number) {
  const source = requestBodyStream(c);
  if (!source) throw new RegistryError('INVALID_INPUT', 'the request has no body');
  let parser: busboy.Busboy;
  try {
    parser = busboy({ headers: { 'content-type': requestHeader(c, 'content-type') ?? '' }, limits: { files: 2, fields: 2, fieldSize: MAX_CERTIFICATE_BYTES } });
  } catch (err) {
    throw new RegistryError('INVALID_INPUT', `malformed multipart request: ${(err as Error).message}`);
  }
  /** The certificate part as sent: JSON text (a field or a file), or a certificate PDF (a file). */
  let certificateBytes: Buffer | undefined;
  let file: { sha256: string; sm3: string } | undefined;
  let problem: Error | undefined;
  // Names as their parts begin: a second "file" must be refused, not win because it ended last.
  const seen = new Set<string>();
  const once = (name: string) => {
    const first = !seen.has(name);
    seen.add(name);
    return first;
  };
  const partsProblem = () => new RegistryError('INVALID_INPUT', 'send one part "file" and one "certificate" (as a file or a field)');
  await new Promise<void>((resolve, reject) => {
    parser.on('field', (name, value, info) => {
      if (name !== 'certificate' || !once(name)) problem ??= partsProblem();
      else if (info.valueTruncated) problem ??= new ApiError(413, 'PAYLOAD_TOO_LARGE', `the certificate part is larger than ${MAX_CERTIFICATE_BYTES} bytes`);
      else certificateBytes = Buffer.from(value, 'utf8');
    });
    parser.on('filesLimit', () => (problem ??= partsProblem()));
    parser.on('fieldsLimit', () => (problem ??= partsProblem()));
    parser.on('file', (name, stream) => {
      // A body that ends inside a part fails that part's stream as well as the parser (see multipart-upload.ts).
      stream.on('error', (err) => reject(malformed(err)));
      if ((name !== 'certificate' && name !== 'file') || !once(name)) {
        problem ??= partsProblem();
        stream.resume();
        return;
      }
      const sha256 = createHash('sha256');
      const sm3 = createHash('sm3');
      const chunks: Buffer[] = [];
      let size = 0;
      // The certificate's limit depends on what it is: known from its first five bytes (%PDF-).
      const limit = () => {
        if (name === 'file') return maxBytes;
        if (size < 5) return MAX_CERTIFICATE_PDF_BYTES;
        return looksLikePdf(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks.slice(0, 5))) ? MAX_CERTIFICATE_PDF_BYTES : MAX_CERTIFICATE_BYTES;
      };
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (name === 'certificate') chunks.push(chunk);
        const max = limit();
        if (size > max) {
          // Refused at once: reading (or keeping) the rest of a large part would only waste the center's time.
          const what = name === 'file' ? 'file' : max === MAX_CERTIFICATE_PDF_BYTES ? 'certificate PDF' : 'certificate';
          problem ??= new ApiError(413, 'PAYLOAD_TOO_LARGE', `the ${what} part is larger than ${max} bytes`);
          chunks.length = 0;
          source.unpipe(parser);
          source.pause(); // not destroyed: the answer must still reach the client (then the rest is drained, see app.ts)
          resolve();
          return;
        }
        if (name === 'file') {
          sha256.update(chunk);
          sm3.update(chunk);
        }
      });
      stream.on('end', () => {
        if (name === 'certificate') certificateBytes = Buffer.concat(chunks);
        else file = { sha256: sha256.digest('hex'), sm3: sm3.digest('hex') };
      });
    });
    parser.on('error', (err: Error) => reject(malformed(err)));
    parser.on('close', resolve);
    source.on('error', (err) => reject(new ApiError(400, 'INVALID_INPUT', `the upload was cut off: ${err.message}`)));
    source.pipe(parser);
  });
  if (problem) throw problem;
  if (!file && certificateBytes === undefined) throw new ApiError(400, 'MISSING_PART', 'send the file to check in the part named "file" and its certificate (JSON or the certificate PDF) in the part named "certificate"');
  if (!file) throw new ApiError(400, 'MISSING_PART', 'send the file to check in the part named "file"');
  if (certificateBytes === undefined) throw new ApiError(400, 'MISSING_PART', 'send the certificate (JSON or the certificate PDF) in the part named "certificate"');
  return { certificate: await readCertificatePart(certificateBytes), file };
}

/** The certificate part: its JSON, or the JSON attached to a certificate PDF (the same core code as the page and the CLI). */
async function readCertificatePart(bytes: Buffer): Promise<unknown> {
  let text: string;
  if (looksLikePdf(bytes)) {
    try {
      text = await certificateJsonFromPdf(bytes);
    } catch (err) {
      if (err instanceof PdfAttachmentError) throw new ApiError(422, err.code, err.message);
      throw new ApiError(422, 'PDF_UNREADABLE', `the certificate PDF cannot be read: ${(err as Error).message}`);
    }
  } else text = bytes.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ApiError(400, 'INVALID_JSON', looksLikePdf(bytes) ? "the certificate PDF's attachment is not valid JSON" : 'the certificate is neither valid JSON nor a certificate PDF');
  }
}


/**
 * `GET /v1/trust-roots`: the roots this center's signatures (and timestamps) chain to, each with
 * its SHA-256 fingerprint, for `archive-seal verify --center URL`. Fetched over the network, a
 * root proves nothing by itself: the reader compares the fingerprint with the one the center
 * publishes elsewhere (a notice, its letterhead, a court filing).
 */
export function trustRootRoutes(deps: { pki: CenterPki; timestampTrustRoots?: readonly string[]; center: { id: string; name: string } }) {
  const describe = (pems: readonly string[]) =>
    pems.flatMap((pem) => readTrustRoots(pem, 'center')).map((r) => ({ subject: r.subject, sha256: r.sha256, notAfter: r.notAfter, development: r.isDevelopment, pem: r.pem }));
  const roots = describe(deps.pki.roots.map((r) => r.pem));
  const center = deps.pki.roots.map((r) => r.pem);
  const timestampRoots = describe((deps.timestampTrustRoots ?? []).filter((pem) => !center.includes(pem)));
  const body = { format: 'archive-seal/trust-roots@1', center: deps.center, roots, ...(timestampRoots.length > 0 && { timestampRoots }) };
  return new Hono<AppEnv>().get('/', (c) => {
    c.header('Access-Control-Allow-Origin', '*');
    return c.json(body);
  });
}
