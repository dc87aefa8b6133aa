import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyTimestampToken } from '../../src/core/timestamp-verify.js';
import { PkiError } from '../../src/pki/pki-error.js';
import { BuiltInTimestampAuthority, HttpTimestampAuthority } from '../../src/pki/timestamp-authority.js';
import { DEVELOPMENT_CERTS_DIR, devPki, OPENSSL, strangerPki, useTempDir, writeFiles, writeOpensslTsaConfig } from './pki-test-kit.js';

const dir = useTempDir();
const rootPem = readFileSync(join(DEVELOPMENT_CERTS_DIR, 'root-ca.pem'), 'utf8');
const digest = new Uint8Array(createHash('sha256').update('period 9 root').digest());

type Handler = (body: Buffer, res: ServerResponse) => void;
let handler: Handler = () => undefined;
let server: Server;
let url: string;
let requests = 0;

/** `openssl ts -reply` acting as an outside TSA: one process per request. */
const opensslTsa: Handler = (body, res) => {
  const n = ++requests;
  const query = join(dir, `req-${n}.tsq`);
  const reply = join(dir, `reply-${n}.tsr`);
  writeFileSync(query, body);
  const r = spawnSync(OPENSSL, ['ts', '-reply', '-config', join(dir, 'tsa.cnf'), '-queryfile', query, '-out', reply]);
  if (r.status !== 0) {
    res.writeHead(500).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(readFileSync(reply));
};

beforeAll(async () => {
  writeFiles(dir, {
    'tsa.pem': devPki().tsa.certificate.pem,
    'tsa.key.pem': readFileSync(join(DEVELOPMENT_CERTS_DIR, 'tsa.key.pem')),
  });
  writeOpensslTsaConfig(dir, { certFile: 'tsa.pem', keyFile: 'tsa.key.pem' });
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.headers['content-type'] !== 'application/timestamp-query') {
        res.writeHead(400).end();
        return;
      }
      handler(Buffer.concat(chunks), res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('HttpTimestampAuthority', () => {
  it('accepts a reply made by openssl ts -reply acting as the TSA', async () => {
    handler = opensslTsa;
    const client = new HttpTimestampAuthority(url, { trustRoots: [rootPem] });
    const result = await client.timestamp(digest);
    expect(result.tsa).toBe(devPki().tsa.certificate.facts.subject);
    expect(result.serial).toMatch(/^[0-9a-f]+$/);
    expect(Math.abs(result.genTime.getTime() - Date.now())).toBeLessThan(60_000);
    expect((await verifyTimestampToken(result.token, digest, [rootPem])).code).toBe('OK');
  });

  it('accepts a reply from our own TSA served over HTTP', async () => {
    const own = new BuiltInTimestampAuthority({ identity: devPki().tsa });
    handler = (body, res) =>
      res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(own.respond(new Uint8Array(body)));
    const result = await new HttpTimestampAuthority(url, { trustRoots: [rootPem] }).timestamp(digest);
    expect(result.tsa).toBe(own.name);
  });

  it('refuses a replayed reply (nonce and imprint of another request) with TSA_REPLY_INVALID', async () => {
    handler = opensslTsa;
    const otherDigest = new Uint8Array(32).fill(1);
    await new HttpTimestampAuthority(url, { trustRoots: [rootPem] }).timestamp(otherDigest);
    const replayed = readFileSync(join(dir, `reply-${requests}.tsr`));
    handler = (_body, res) => res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(replayed);
    await expect(new HttpTimestampAuthority(url, { trustRoots: [rootPem] }).timestamp(digest)).rejects.toMatchObject({
      code: 'TSA_REPLY_INVALID',
      message: expect.stringContaining('TST_IMPRINT_MISMATCH'),
    });
  });

  it('refuses a token from a TSA that does not chain to the configured root', async () => {
    handler = opensslTsa;
    const client = new HttpTimestampAuthority(url, { trustRoots: [strangerPki().roots[0]!.pem] });
    await expect(client.timestamp(digest)).rejects.toMatchObject({
      code: 'TSA_REPLY_INVALID',
      message: expect.stringContaining('TST_UNTRUSTED'),
    });
  });

  it('reports a rejection with its failInfo as TSA_REJECTED', async () => {
    const own = new BuiltInTimestampAuthority({ identity: devPki().tsa });
    handler = (_body, res) =>
      res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(own.respond(new Uint8Array([1])));
    const error = await new HttpTimestampAuthority(url, { trustRoots: [rootPem] }).timestamp(digest).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PkiError);
    expect(error).toMatchObject({ code: 'TSA_REJECTED', message: expect.stringContaining('badDataFormat') });
  });

  it('reports HTTP errors and wrong media types as TSA_HTTP_ERROR', async () => {
    handler = (_body, res) => res.writeHead(503).end();
    await expect(new HttpTimestampAuthority(url, { trustRoots: [rootPem] }).timestamp(digest)).rejects.toMatchObject({
      code: 'TSA_HTTP_ERROR',
    });
    handler = (_body, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>');
    await expect(new HttpTimestampAuthority(url, { trustRoots: [rootPem] }).timestamp(digest)).rejects.toMatchObject({
      code: 'TSA_HTTP_ERROR',
      message: expect.stringContaining('text/html'),
    });
    await expect(
      new HttpTimestampAuthority('http://127.0.0.1:1/', { trustRoots: [rootPem], timeoutMs: 2000 }).timestamp(digest),
    ).rejects.toMatchObject({ code: 'TSA_HTTP_ERROR' });
  });

  it('reports garbage as TSA_REPLY_INVALID', async () => {
    handler = (_body, res) => res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end('garbage');
    await expect(new HttpTimestampAuthority(url, { trustRoots: [rootPem] }).timestamp(digest)).rejects.toMatchObject({
      code: 'TSA_REPLY_INVALID',
    });
  });
});
