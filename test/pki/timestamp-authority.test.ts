import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTsaRoutes } from '../../src/http/tsa-routes.js';
import { DEVELOPMENT_TSA_POLICY_OID } from '../../src/core/development-marker.js';
import { BuiltInTimestampAuthority } from '../../src/pki/timestamp-authority.js';
import { derInteger, derOctetString, derOid, derSequence, derTlv } from '../../src/pki/der-writer.js';
import { buildTimestampRequest } from '../../src/pki/timestamp-request.js';
import { parseTimestampResponse } from '../../src/pki/timestamp-response.js';
import { DEVELOPMENT_CERTS_DIR, devPki, openssl, useTempDir, writeFiles } from './pki-test-kit.js';

const dir = useTempDir();
const root = join(DEVELOPMENT_CERTS_DIR, 'root-ca.pem');
const tsaCert = join(DEVELOPMENT_CERTS_DIR, 'tsa.pem');
const tsa = new BuiltInTimestampAuthority({ identity: devPki().tsa });
writeFiles(dir, { 'data.txt': 'period 42 root\n' });

/** `openssl ts -query` for data.txt, written to `name`, with extra flags. */
function opensslQuery(name: string, ...flags: string[]): Uint8Array {
  const r = openssl(['ts', '-query', '-data', 'data.txt', '-out', name, ...flags], dir);
  expect(r.status).toBe(0);
  return new Uint8Array(readFileSync(join(dir, name)));
}

function opensslTsVerify(reply: string, query: string) {
  return openssl(['ts', '-verify', '-in', reply, '-queryfile', query, '-CAfile', root, '-untrusted', tsaCert], dir);
}

function replyText(reply: string): string {
  return openssl(['ts', '-reply', '-in', reply, '-text'], dir).stdout;
}

describe('BuiltInTimestampAuthority.respond with openssl ts', () => {
  it('answers openssl ts -query -sha256 -cert with a reply openssl ts -verify accepts', () => {
    const query = opensslQuery('q1.tsq', '-sha256', '-cert');
    writeFiles(dir, { 'r1.tsr': tsa.respond(query) });
    const r = opensslTsVerify('r1.tsr', 'q1.tsq');
    expect(r.stdout).toBe('Verification: OK\n');
    expect(r.status).toBe(0);
    const text = replyText('r1.tsr');
    expect(text).toContain('Status: Granted.');
    expect(text).toContain(`Policy OID: ${DEVELOPMENT_TSA_POLICY_OID}`);
    expect(text).toContain('Accuracy: 0x01 seconds');
    expect(text).toContain('Ordering: no');
    expect(text).toContain('TSA: DirName:/O=Archive Seal DEVELOPMENT');
  });

  it('copies the nonce and messageImprint of the request', () => {
    const query = opensslQuery('q2.tsq', '-sha256', '-cert');
    writeFiles(dir, { 'r2.tsr': tsa.respond(query) });
    const nonce = /Nonce: (0x[0-9A-F]+)/.exec(openssl(['ts', '-query', '-in', 'q2.tsq', '-text'], dir).stdout)?.[1];
    expect(nonce).toMatch(/^0x/);
    expect(replyText('r2.tsr')).toContain(`Nonce: ${nonce}`);
  });

  it('leaves the certificate out when certReq is false (openssl then needs -untrusted, which it gets)', () => {
    const query = opensslQuery('q3.tsq', '-sha256', '-no_nonce');
    writeFiles(dir, { 'r3.tsr': tsa.respond(query) });
    expect(opensslTsVerify('r3.tsr', 'q3.tsq').status).toBe(0);
    const token = parseTimestampResponse(tsa.respond(query)).token as Uint8Array;
    writeFiles(dir, { 't3.der': token });
    const printed = openssl(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', 't3.der'], dir).stdout;
    expect(printed).toContain('certificates:\n      <ABSENT>');
  });

  it('rejects a SHA-1 query with failInfo badAlg', () => {
    const query = opensslQuery('q4.tsq', '-sha1', '-cert');
    const reply = tsa.respond(query);
    expect(parseTimestampResponse(reply)).toMatchObject({ status: 2, failInfo: ['badAlg'] });
    writeFiles(dir, { 'r4.tsr': reply });
    expect(replyText('r4.tsr')).toContain('Failure info: unrecognized or unsupported algorithm identifier');
  });

  it('rejects a policy it does not offer with unacceptedPolicy', () => {
    const query = opensslQuery('q5.tsq', '-sha256', '-tspolicy', '1.2.3.4.5');
    expect(parseTimestampResponse(tsa.respond(query))).toMatchObject({ status: 2, failInfo: ['unacceptedPolicy'] });
    const ok = opensslQuery('q6.tsq', '-sha256', '-cert', '-tspolicy', DEVELOPMENT_TSA_POLICY_OID);
    expect(parseTimestampResponse(tsa.respond(ok)).status).toBe(0);
  });

  it('answers malformed requests with a badDataFormat rejection, never an exception', () => {
    const good = opensslQuery('q7.tsq', '-sha256', '-cert');
    const malformed: Uint8Array[] = [
      new Uint8Array(),
      new Uint8Array([0x30]),
      new Uint8Array([0x30, 0x80, 0x00, 0x00]), // BER indefinite length
      good.subarray(0, good.length - 1),
      new Uint8Array([...good, 0x00]),
      new TextEncoder().encode('GET / HTTP/1.1\r\n'),
      buildTimestampRequest({ sha256Digest: new Uint8Array(20) }), // wrong imprint length
    ];
    for (const [i, request] of malformed.entries()) {
      const reply = tsa.respond(request);
      expect(parseTimestampResponse(reply), `case ${i}`).toMatchObject({ status: 2, failInfo: ['badDataFormat'] });
      expect(parseTimestampResponse(reply).token).toBeUndefined();
    }
    // Huge numbers and OIDs are refused unread, in a short answer (decoding a 60 KiB number took
    // the HTTP thread a third of a second, and its decimal text came back 2.4 times the request).
    const imprint = derSequence(derSequence(derOid('2.16.840.1.101.3.4.2.1')), derOctetString(new Uint8Array(32)));
    const huge = new Uint8Array(60_000).fill(0x7f);
    const longOid = new Uint8Array([0x2a, ...new Uint8Array(59_999).fill(0x81), 0x01]);
    for (const [what, request] of [
      ['version', derSequence(derTlv(0x02, huge), imprint)],
      ['nonce', derSequence(derInteger(1), imprint, derTlv(0x02, huge))],
      ['policy', derSequence(derInteger(1), imprint, derTlv(0x06, longOid))],
      ['algorithm OID', derSequence(derInteger(1), derSequence(derSequence(derTlv(0x06, longOid)), derOctetString(new Uint8Array(32))))],
    ] as const) {
      const reply = tsa.respond(request);
      expect(parseTimestampResponse(reply), what).toMatchObject({ status: 2, failInfo: ['badDataFormat'] });
      expect(reply.length, what).toBeLessThan(300);
    }
    writeFiles(dir, { 'r7.tsr': tsa.respond(new Uint8Array([1, 2, 3])) });
    const text = replyText('r7.tsr');
    expect(text).toContain('Status: Rejected.');
    expect(text).toContain('Failure info: the data submitted has the wrong format');
  });

  it('rejects a request carrying extensions with unacceptedExtension (RFC 3161 §2.4.1)', () => {
    const plain = buildTimestampRequest({ sha256Digest: new Uint8Array(32).fill(7) });
    // Append extensions [0] { Extension { OID 1.2.3.4, OCTET STRING {} } } and fix the outer length.
    const extensions = [0xa0, 0x09, 0x30, 0x07, 0x06, 0x03, 0x2a, 0x03, 0x04, 0x04, 0x00];
    const body = [...plain.subarray(2), ...extensions];
    const request = new Uint8Array([0x30, body.length, ...body]);
    expect(parseTimestampResponse(tsa.respond(request))).toMatchObject({ status: 2, failInfo: ['unacceptedExtension'] });
  });

  it('issues 128-bit serial numbers that openssl reads back as we report them', async () => {
    const serials = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const issued = await tsa.timestamp(new Uint8Array(32).fill(i));
      expect(issued.serial).toMatch(/^[4-7][0-9a-f]{31}$/);
      writeFiles(dir, { 't8.der': issued.token });
      const text = openssl(['ts', '-reply', '-in', 't8.der', '-token_in', '-text', '-token_out'], dir).stdout;
      expect(text).toContain(`Serial number: 0x${issued.serial.toUpperCase()}`);
      serials.add(issued.serial);
    }
    expect(serials.size).toBe(5);
  });

  it('uses a persisted counter for serials when given one', async () => {
    let counter = 41n;
    const counted = new BuiltInTimestampAuthority({ identity: devPki().tsa, nextSerial: () => ++counter });
    const a = await counted.timestamp(new Uint8Array(32));
    const b = await counted.timestamp(new Uint8Array(32));
    expect([a.serial, b.serial]).toEqual(['2a', '2b']);
    expect(a.tsa).toBe(devPki().tsa.certificate.facts.subject);
  });
});

describe('createTsaRoutes (Hono, mounted at /tsa)', () => {
  const app = createTsaRoutes(tsa);

  it('answers application/timestamp-query with an application/timestamp-reply openssl accepts', async () => {
    const query = opensslQuery('h1.tsq', '-sha256', '-cert');
    const res = await app.request('/', {
      method: 'POST',
      headers: { 'content-type': 'application/timestamp-query' },
      body: new Uint8Array(query),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/timestamp-reply');
    writeFiles(dir, { 'h1.tsr': new Uint8Array(await res.arrayBuffer()) });
    expect(opensslTsVerify('h1.tsr', 'h1.tsq').stdout).toBe('Verification: OK\n');
  });

  it('answers a malformed query with HTTP 200 and a rejection TimeStampResp (RFC 3161 §3.4)', async () => {
    const res = await app.request('/', {
      method: 'POST',
      headers: { 'content-type': 'application/timestamp-query' },
      body: new Uint8Array([0x30, 0x01]),
    });
    expect(res.status).toBe(200);
    expect(parseTimestampResponse(new Uint8Array(await res.arrayBuffer()))).toMatchObject({
      status: 2,
      failInfo: ['badDataFormat'],
    });
  });

  it('refuses other media types with 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const res = await app.request('/', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(415);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(body.error.message.length).toBeGreaterThan(0);
  });

  it('refuses bodies over 64 KiB with 413 PAYLOAD_TOO_LARGE', async () => {
    const res = await app.request('/', {
      method: 'POST',
      headers: { 'content-type': 'application/timestamp-query' },
      body: new Uint8Array(64 * 1024 + 1),
    });
    expect(res.status).toBe(413);
    const body = (await res.json()) as { error: { code: string } };
    expect(body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });
});
