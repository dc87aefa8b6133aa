import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issuePkiSet, writePkiSet } from '../../src/pki/key-management.js';
import { startExternalChain, waitFor, type ExternalChain } from '../helpers/external-chain.js';
import { api, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// POST /v1/verify as a multipart upload, the way the verifier page takes its inputs: the file and
// the certificate, as its JSON or as the signed certificate PDF. A center with its own keys on an
// outside chain (the anvil stands in for it), so a genuine upload is AUTHENTIC. Every bad upload
// (a part missing, too large, malformed, a PDF without the certificate) gets its own code, never a 500.
const MAX_UPLOAD = 200_000;
const dir = makeTempDir();
let chain: ExternalChain;
let server: ServerProcess;
const original = randomBytes(50_000);
let certificateJson: string;
let certificatePdf: Buffer;

beforeAll(async () => {
  chain = await startExternalChain(dir.path, { confirmations: 1, chainId: 4643 });
  const pkiDir = join(dir.path, 'pki');
  const name = (commonName: string) => ({ commonName, organization: 'Verify upload test' });
  writePkiSet(pkiDir, issuePkiSet({ root: name('Upload Test Root'), center: name('Upload Test Center'), tsa: name('Upload Test TSA') }));
  server = await startServerProcess(join(dir.path, 'data'), { ARCHIVE_SEAL_CHAINS: chain.chainsFile, ARCHIVE_SEAL_PKI_DIR: pkiDir, ARCHIVE_SEAL_CENTER_NAME: '上传核验测试中心', ARCHIVE_SEAL_MAX_UPLOAD_BYTES: String(MAX_UPLOAD) });
  const form = new FormData();
  form.append('category', 'agency.documents');
  form.append('file', new Blob([new Uint8Array(original)]), '公文-2026-017.pdf');
  const registered = await fetch(`${server.url}/v1/registrations`, { method: 'POST', headers: { authorization: `Bearer ${server.adminToken}` }, body: form });
  expect(registered.status).toBe(201);
  const id = ((await registered.json()) as { id: number }).id;
  expect((await api(server.url, server.adminToken, 'POST', '/v1/periods/seal')).status).toBe(201);
  certificateJson = await waitFor('the certificate', async () => {
    const res = await fetch(`${server.url}/v1/registrations/${id}/certificate`, { headers: { authorization: `Bearer ${server.adminToken}` } });
    return res.status === 200 ? res.text() : undefined;
  });
  const pdf = await fetch(`${server.url}/v1/registrations/${id}/certificate?format=pdf`, { headers: { authorization: `Bearer ${server.adminToken}` } });
  expect(pdf.headers.get('content-type')).toBe('application/pdf');
  certificatePdf = Buffer.from(await pdf.arrayBuffer());
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await chain?.stop();
  dir.remove();
});

async function upload(parts: { name: string; value: Buffer | string; fileName?: string; type?: string }[]): Promise<{ status: number; body: any }> {
  const form = new FormData();
  for (const p of parts) {
    if (p.fileName === undefined && typeof p.value === 'string') form.append(p.name, p.value);
    else form.append(p.name, new Blob([new Uint8Array(Buffer.from(p.value))], { type: p.type ?? 'application/octet-stream' }), p.fileName ?? p.name);
  }
  const res = await fetch(`${server.url}/v1/verify`, { method: 'POST', body: form });
  return { status: res.status, body: await res.json() };
}
const filePart = (value: Buffer = original) => ({ name: 'file', value, fileName: '公文-2026-017.pdf' });
const pdfPart = (value: Buffer = certificatePdf) => ({ name: 'certificate', value, fileName: 'certificate.pdf', type: 'application/pdf' });
const stepsOf = (report: any) => report.steps.map((s: any) => `${s.step}:${s.status}:${s.code}`);

/** A raw multipart body sent chunked, answered however early. */
function postRaw(contentType: string, parts: Buffer[]): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(`${server.url}/v1/verify`, { method: 'POST', headers: { 'content-type': contentType, 'transfer-encoding': 'chunked' } });
    req.on('response', (res) => {
      answered = true;
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', (err) => (answered ? undefined : reject(err)));
    void (async () => {
      for (const part of parts) {
        if (answered) return;
        if (!req.write(part)) await new Promise((r) => req.once('drain', r));
        await new Promise((r) => setImmediate(r));
      }
      req.end();
    })();
  });
}

describe('POST /v1/verify, multipart', () => {
  it('takes the certificate PDF as the certificate: AUTHENTIC, the same steps as with the JSON', async () => {
    const byJson = await upload([filePart(), { name: 'certificate', value: Buffer.from(certificateJson), fileName: 'certificate.json', type: 'application/json' }]);
    expect(byJson.status).toBe(200);
    expect(byJson.body.verdict).toBe('AUTHENTIC');
    const byPdf = await upload([filePart(), pdfPart()]);
    expect(byPdf.status).toBe(200);
    expect(byPdf.body).toMatchObject({ verdict: 'AUTHENTIC', authentic: true });
    expect(stepsOf(byPdf.body)).toEqual(stepsOf(byJson.body));
    expect(stepsOf(byPdf.body)).toContain('registry:ok:OK');
    // Parts in either order; the certificate as a text field too.
    expect((await upload([pdfPart(), filePart()])).body.verdict).toBe('AUTHENTIC');
    expect((await upload([{ name: 'certificate', value: certificateJson }, filePart()])).body.verdict).toBe('AUTHENTIC');
  });

  it('a changed file against the PDF: NOT AUTHENTIC, FILE_DIGEST_MISMATCH', async () => {
    const changed = Buffer.from(original);
    changed[100]! ^= 1;
    const res = await upload([filePart(changed), pdfPart()]);
    expect(res.status).toBe(200);
    expect(res.body.verdict).toBe('NOT_AUTHENTIC');
    expect(res.body.steps.find((s: any) => s.step === 'file-digests').code).toBe('FILE_DIGEST_MISMATCH');
  });

  it('a PDF without the certificate attachment: 422 PDF_NO_CERTIFICATE; a broken PDF: 422 PDF_UNREADABLE', async () => {
    const plain = Buffer.from(certificatePdf);
    for (let at = plain.indexOf('.json)'); at >= 0; at = plain.indexOf('.json)', at + 1)) plain.write('.jsox)', at, 'latin1');
    const none = await upload([filePart(), pdfPart(plain)]);
    expect([none.status, none.body.error.code]).toEqual([422, 'PDF_NO_CERTIFICATE']);
    const broken = await upload([filePart(), pdfPart(Buffer.from('%PDF-1.7\nthis is not a PDF at all\n'))]);
    expect([broken.status, broken.body.error.code]).toEqual([422, 'PDF_UNREADABLE']);
    const truncated = await upload([filePart(), pdfPart(certificatePdf.subarray(0, Math.floor(certificatePdf.length / 2)))]);
    expect(truncated.status).toBe(422);
    expect(['PDF_UNREADABLE', 'PDF_NO_CERTIFICATE']).toContain(truncated.body.error.code);
  });

  it('a certificate that is neither JSON nor a PDF: 400 INVALID_JSON', async () => {
    const res = await upload([filePart(), { name: 'certificate', value: Buffer.from('not a certificate'), fileName: 'c.txt' }]);
    expect([res.status, res.body.error.code, res.body.error.message]).toEqual([400, 'INVALID_JSON', 'the certificate is neither valid JSON nor a certificate PDF']);
  });

  it('a missing part: 400 MISSING_PART, naming it', async () => {
    const noFile = await upload([pdfPart()]);
    expect([noFile.status, noFile.body.error.code]).toEqual([400, 'MISSING_PART']);
    expect(noFile.body.error.message).toMatch(/part named "file"/);
    const noCert = await upload([filePart()]);
    expect([noCert.status, noCert.body.error.code]).toEqual([400, 'MISSING_PART']);
    expect(noCert.body.error.message).toMatch(/certificate \(JSON or the certificate PDF\) in the part named "certificate"/);
    const empty = await postRaw('multipart/form-data; boundary=xx', [Buffer.from('--xx--\r\n')]);
    expect([empty.status, empty.body.error.code]).toEqual([400, 'MISSING_PART']);
  });

  it('too large: the file over the upload limit, a certificate PDF over 16 MiB, a JSON certificate over 4 MiB: 413 at once', async () => {
    const big = await upload([pdfPart(), filePart(randomBytes(MAX_UPLOAD + 1))]);
    expect([big.status, big.body.error.code, big.body.error.message]).toEqual([413, 'PAYLOAD_TOO_LARGE', `the file part is larger than ${MAX_UPLOAD} bytes`]);
    const head = (type: string) => Buffer.from(`--b\r\nContent-Disposition: form-data; name="certificate"; filename="c"\r\nContent-Type: ${type}\r\n\r\n`);
    // A PDF may be up to 16 MiB: 5 MiB of it is read, and refused only when it carries no certificate.
    const pdfChunks = [head('application/pdf'), Buffer.from('%PDF-1.7\n'), ...Array.from({ length: 80 }, () => Buffer.alloc(65_536, 0x20)), Buffer.from('\r\n--b--\r\n')];
    const midPdf = await postRaw('multipart/form-data; boundary=b', pdfChunks);
    expect([midPdf.status, midPdf.body.error.code]).toEqual([400, 'MISSING_PART']);
    const hugePdf = await postRaw('multipart/form-data; boundary=b', [head('application/pdf'), Buffer.from('%PDF-1.7\n'), ...Array.from({ length: 300 }, () => Buffer.alloc(65_536, 0x20))]);
    expect([hugePdf.status, hugePdf.body.error.code, hugePdf.body.error.message]).toEqual([413, 'PAYLOAD_TOO_LARGE', 'the certificate PDF part is larger than 16777216 bytes']);
    const hugeJson = await postRaw('multipart/form-data; boundary=b', [head('application/json'), Buffer.from('{"a":"'), ...Array.from({ length: 80 }, () => Buffer.alloc(65_536, 0x61))]);
    expect([hugeJson.status, hugeJson.body.error.code, hugeJson.body.error.message]).toEqual([413, 'PAYLOAD_TOO_LARGE', 'the certificate part is larger than 4194304 bytes']);
  });

  it('malformed multipart: no boundary, cut off, an unknown part: 400, and the center stays up with no internal error', async () => {
    const noBoundary = await postRaw('multipart/form-data', [Buffer.from('--x\r\n')]);
    expect([noBoundary.status, noBoundary.body.error.code]).toEqual([400, 'INVALID_INPUT']);
    const cut = await postRaw('multipart/form-data; boundary=b', [Buffer.from('--b\r\nContent-Disposition: form-data; name="certificate"; filename="c.pdf"\r\n\r\n%PDF-1.7 and then nothing')]);
    expect([cut.status, cut.body.error.code]).toEqual([400, 'INVALID_INPUT']);
    const other = await upload([filePart(), pdfPart(), { name: 'extra', value: 'x' }]);
    expect([other.status, other.body.error.code]).toEqual([400, 'INVALID_INPUT']);
    const garbage = await postRaw('multipart/form-data; boundary=b', [randomBytes(4096)]);
    expect(garbage.status).toBe(400);
    expect(server.output()).not.toMatch(/internal error/i);
    expect((await api(server.url, undefined, 'GET', '/v1/categories')).status).toBe(200);
  });
});
