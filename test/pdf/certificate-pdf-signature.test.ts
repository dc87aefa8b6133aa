import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateJsonFromPdf } from '../../src/core/pdf-attachment.js';
import { isDict, isRef, PdfReader } from '../../src/core/pdf-objects.js';
import { OID_ATTR_SIGNATURE_TIME_STAMP } from '../../src/core/pki-oids.js';
import { decodeOid, derChildren, readDerElement } from '../../src/pki/der-reader.js';
import { DEVELOPMENT_CERTS_DIR, loadDevelopmentPki } from '../../src/pki/dev-pki.js';
import { BuiltInTimestampAuthority, HttpTimestampAuthority } from '../../src/pki/timestamp-authority.js';
import { Hono } from 'hono';
import { ApiError } from '../../src/http/api-error.js';
import type { AppEnv } from '../../src/http/app-env.js';
import { certificatePdfResponse } from '../../src/http/certificates-routes.js';
import { CertificatePdfs } from '../../src/registry/certificate-pdfs.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { CLI } from '../helpers/server-process.js';
import { copyOf, loadCertificateVector } from '../verify/certificate-fixture.js';

// The signed certificate PDF judged by outside tools: poppler's pdfsig (through an NSS database
// that trusts only the development root, made here with certutil), openssl for the signature
// timestamp, and `archive-seal verify` given the PDF in place of the certificate JSON.
const dir = makeTempDir('archive-seal-pdf-sig-');
afterAll(() => dir.remove());
const { certificate, file } = loadCertificateVector();
const pki = loadDevelopmentPki();
const pdfs = new CertificatePdfs({ signer: pki.center, tsa: new BuiltInTimestampAuthority({ identity: pki.tsa }), timeZone: 'Asia/Shanghai', center: { id: 'dev-center', name: '开发中心' } });
const verifyUrl = 'https://records.example.gov.cn/verify#cert=/v1/certificates/YJaDc4D-hmQNlheRRE228w';
const nssDir = join(dir.path, 'nss');
const rootPem = join(DEVELOPMENT_CERTS_DIR, 'root-ca.pem');
let signed: Buffer;
let signedFile: string;

beforeAll(async () => {
  signed = await pdfs.signed({ id: 'YJaDc4D-hmQNlheRRE228w', certificate }, verifyUrl);
  signedFile = join(dir.path, 'certificate.pdf');
  writeFileSync(signedFile, signed);
  execFileSync('mkdir', ['-p', nssDir]);
  execFileSync('certutil', ['-N', '-d', `sql:${nssDir}`, '--empty-password']);
  execFileSync('certutil', ['-A', '-d', `sql:${nssDir}`, '-n', 'archive-seal-dev-root', '-t', 'C,C,C', '-i', rootPem]);
});

function pdfsig(path: string, nss = nssDir): string {
  const r = spawnSync('pdfsig', ['-nssdir', `sql:${nss}`, path], { encoding: 'utf8' });
  return r.stdout + r.stderr;
}

function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The CMS SignedData in /Contents of the (only) signature (the rest of the reserved room is zeros). */
function signatureCms(pdf: Buffer): Buffer {
  const m = /\/Contents <([0-9a-f]+)>/.exec(pdf.toString('latin1'));
  return Buffer.from(readDerElement(Buffer.from(m![1]!, 'hex')).element.der);
}

describe('the signed certificate PDF', () => {
  it('pdfsig: a valid ETSI.CAdES.detached signature over the whole file, by the center, chaining to the trusted root', () => {
    const out = pdfsig(signedFile);
    expect(out).toContain('Signature Type: ETSI.CAdES.detached');
    expect(out).toContain('Signer Certificate Common Name: Archive Seal DEVELOPMENT Center - NOT FOR EVIDENCE');
    expect(out).toContain('Signing Hash Algorithm: SHA-256');
    expect(out).toContain('Total document signed');
    expect(out).toContain('Signature Validation: Signature is Valid.');
    expect(out).toContain('Certificate Validation: Certificate is Trusted.');
    // Without the root in the NSS database the signature still holds, but the signer is not trusted.
    const empty = join(dir.path, 'nss-empty');
    execFileSync('mkdir', ['-p', empty]);
    execFileSync('certutil', ['-N', '-d', `sql:${empty}`, '--empty-password']);
    const untrusted = pdfsig(signedFile, empty);
    expect(untrusted).toContain('Signature is Valid.');
    expect(untrusted).not.toContain('Certificate is Trusted.');
  });

  it('carries the RFC 3161 signature timestamp over its signature value, which openssl ts -verify accepts', () => {
    const cms = signatureCms(signed);
    const [, content] = derChildren(readDerElement(cms).element);
    const signedData = derChildren(derChildren(content!)[0]!);
    const signerInfo = derChildren(signedData[signedData.length - 1]!)[0]!;
    const fields = derChildren(signerInfo);
    const signatureValue = fields.find((f) => f.tag === 0x04)!.content;
    const unsigned = fields.find((f) => f.tag === 0xa1);
    expect(unsigned, 'unsigned attributes').toBeDefined();
    const attribute = derChildren(unsigned!).map((a) => derChildren(a)).find(([oid]) => decodeOid(oid!.content) === OID_ATTR_SIGNATURE_TIME_STAMP);
    expect(attribute, 'signature-time-stamp attribute').toBeDefined();
    const token = derChildren(attribute![1]!)[0]!.der;
    writeFileSync(join(dir.path, 'token.der'), token);
    const digest = createHash('sha256').update(signatureValue).digest('hex');
    const verified = spawnSync(
      'openssl',
      ['ts', '-verify', '-digest', digest, '-token_in', '-in', 'token.der', '-CAfile', rootPem, '-untrusted', join(DEVELOPMENT_CERTS_DIR, 'tsa.pem')],
      { cwd: dir.path, encoding: 'utf8' },
    );
    expect(verified.stdout + verified.stderr).toContain('Verification: OK');
    // And not over anything else.
    const wrong = spawnSync('openssl', ['ts', '-verify', '-digest', 'ab'.repeat(32), '-token_in', '-in', 'token.der', '-CAfile', rootPem], { cwd: dir.path, encoding: 'utf8' });
    expect(wrong.status).not.toBe(0);
  });

  it('lists the certificate JSON, exactly as the API gives it, as an attachment (pdfdetach) also after signing', async () => {
    expect(execFileSync('pdfdetach', ['-list', signedFile], { encoding: 'utf8' })).toContain(`certificate-${certificate.content.record.registrationId}.json`);
    execFileSync('pdfdetach', ['-save', '1', '-o', join(dir.path, 'attached.json'), signedFile]);
    expect(readFileSync(join(dir.path, 'attached.json'), 'utf8')).toBe(JSON.stringify(certificate));
    expect(await certificateJsonFromPdf(signed)).toBe(JSON.stringify(certificate));
  });

  it('archive-seal verify FILE CERT.pdf gives the same verdict and steps as the JSON', () => {
    const original = join(dir.path, 'original.bin');
    writeFileSync(original, file);
    const jsonFile = join(dir.path, 'certificate.json');
    writeFileSync(jsonFile, JSON.stringify(certificate));
    const fromJson = cli(['verify', original, jsonFile, '--trust', rootPem, '--allow-development', '--json']);
    const fromPdf = cli(['verify', original, signedFile, '--trust', rootPem, '--allow-development', '--json']);
    expect(fromPdf.stderr).toBe(fromJson.stderr);
    expect(fromPdf.code).toBe(fromJson.code);
    const report = (out: string) => ({ ...JSON.parse(out), checkedAt: undefined });
    expect(report(fromPdf.stdout)).toEqual(report(fromJson.stdout));
    expect(JSON.parse(fromPdf.stdout).steps.find((s: { step: string }) => s.step === 'signature').status).toBe('ok');
    // A PDF without the attachment is refused with a one-line reason.
    const plain = join(dir.path, 'plain.pdf');
    writeFileSync(plain, withoutAttachmentName(signed));
    const refused = cli(['verify', original, plain, '--trust', rootPem]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('carries no certificate attachment');
  });

  it('a PDF whose attachment was changed after signing: pdfsig says not the whole document is signed, verify says NOT AUTHENTIC', async () => {
    const forged = copyOf(certificate);
    forged.content.record.title = '伪造的题名';
    const tampered = replaceAttachment(signed, Buffer.from(JSON.stringify(forged)));
    const tamperedFile = join(dir.path, 'tampered.pdf');
    writeFileSync(tamperedFile, tampered);
    expect(await certificateJsonFromPdf(tampered)).toBe(JSON.stringify(forged));
    const out = pdfsig(tamperedFile);
    expect(out).not.toContain('Total document signed');
    const original = join(dir.path, 'original.bin');
    writeFileSync(original, file);
    const result = cli(['verify', original, tamperedFile, '--trust', rootPem, '--json']);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.authentic).toBe(false);
    expect(report.steps.find((s: { step: string }) => s.step === 'signature').status).toBe('failed');
  });

  it('an outside TSA that cannot be reached: the PDF route answers 503 with what to do, not 500', async () => {
    const down = new CertificatePdfs({ signer: pki.center, tsa: new HttpTimestampAuthority('http://127.0.0.1:9/tsa', { trustRoots: [readFileSync(rootPem, 'utf8')] }), timeZone: 'Asia/Shanghai', center: { id: 'dev-center', name: '开发中心' } });
    const app = new Hono<AppEnv>()
      .get('/', (c) => certificatePdfResponse(c, { id: 'x', certificate }, { publicUrl: 'https://records.example.gov.cn', certificatePdfs: down }))
      .onError((err, c) => (err instanceof ApiError ? c.json({ error: { code: err.code, message: err.message } }, err.status) : c.text('unexpected', 500)));
    const res = await app.request('/');
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('without ?format=pdf');
  });

  it('a byte changed inside the signed range: pdfsig reports the signature invalid', () => {
    const broken = Buffer.from(signed);
    const at = broken.indexOf('/Title', 0, 'latin1');
    broken[at + 1] = 't'.charCodeAt(0);
    const brokenFile = join(dir.path, 'broken.pdf');
    writeFileSync(brokenFile, broken);
    expect(pdfsig(brokenFile)).not.toContain('Signature is Valid.');
  });
});

/** The signed PDF with an incremental update that replaces the attachment's stream by `json` (uncompressed). */
function replaceAttachment(pdf: Buffer, json: Buffer): Buffer {
  const reader = new PdfReader(pdf);
  const af = reader.resolve(reader.catalog().dict.get('/AF'));
  const spec = reader.resolve((af as unknown[])[0] as never);
  if (!isDict(spec)) throw new Error('no file specification');
  const ef = reader.resolve(spec.get('/EF'));
  const stream = isDict(ef) ? ef.get('/F') : undefined;
  if (!isRef(stream)) throw new Error('no embedded file');
  const body = Buffer.concat([
    Buffer.from(`\n${stream.ref} 0 obj\n<</Type /EmbeddedFile /Subtype /application#2Fjson /Length ${json.length}>>\nstream\n`, 'latin1'),
    json,
    Buffer.from('\nendstream\nendobj\n', 'latin1'),
  ]);
  const objectAt = pdf.length + 1;
  const xrefAt = pdf.length + body.length;
  const tail = `xref\n${stream.ref} 1\n${String(objectAt).padStart(10, '0')} 00000 n\r\ntrailer\n<</Size ${reader.trailer.get('/Size')} /Root ${reader.catalog().ref.ref} 0 R /Prev ${reader.startXref}>>\nstartxref\n${xrefAt}\n%%EOF\n`;
  return Buffer.concat([pdf, body, Buffer.from(tail, 'latin1')]);
}

/** The PDF with the attachment's name no longer ending in .json (same length, so nothing else moves). */
function withoutAttachmentName(pdf: Buffer): Buffer {
  const copy = Buffer.from(pdf);
  const name = Buffer.from('.json)', 'latin1');
  for (let at = copy.indexOf(name); at >= 0; at = copy.indexOf(name, at + 1)) copy.write('.jsox)', at, 'latin1');
  return copy;
}

