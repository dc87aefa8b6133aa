import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// Over a real socket, a body sent without a length (chunked) that turns out too large still gets
// its 413 answer — the server stops reading instead of dropping the connection — and nothing of
// it is kept.
const dir = makeTempDir();
let server: ServerProcess;
// What a crash of an earlier run left half-written: removed at start.
const staleTemp = join(dir.path, 'data', 'blobs', 'tmp', 'cut-short-by-a-crash');
beforeAll(async () => {
  mkdirSync(dirname(staleTemp), { recursive: true });
  writeFileSync(staleTemp, randomBytes(1000));
  server = await startServerProcess(join(dir.path, 'data'), { ARCHIVE_SEAL_MAX_UPLOAD_BYTES: '100000' });
});
afterAll(async () => {
  await server?.stop();
  dir.remove();
});

/** POSTs `parts` chunk by chunk (Transfer-Encoding: chunked), stopping once the server has answered. */
function postChunked(path: string, contentType: string, parts: Buffer[]): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(`${server.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': contentType, 'transfer-encoding': 'chunked' },
    });
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

describe('oversized bodies over a real connection', () => {
  it('removed the unfinished upload an earlier run left in the vault at start', () => {
    expect(existsSync(staleTemp)).toBe(false);
  });

  it('answers 413 to a chunked upload over the limit and keeps none of it', async () => {
    const boundary = 'xxBOUNDARYxx';
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="category"\r\n\r\nagency.digitized\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    );
    const chunks = [head, ...Array.from({ length: 40 }, () => randomBytes(16_384)), Buffer.from(`\r\n--${boundary}--\r\n`)];
    const res = await postChunked('/v1/registrations', `multipart/form-data; boundary=${boundary}`, chunks);
    expect(res).toEqual({ status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE', message: expect.any(String) } } });
    const tmp = join(dir.path, 'data', 'blobs', 'tmp');
    expect(existsSync(tmp) ? readdirSync(tmp) : []).toEqual([]);
    expect((await api(server.url, server.adminToken, 'GET', '/v1/registrations')).body.registrations).toEqual([]);
  });

  it('answers 413 to a chunked JSON body over 1 MiB', async () => {
    const json = Buffer.from(JSON.stringify({ sha256: 'ab'.repeat(32), category: 'agency.documents', title: 'x'.repeat(1_200_000) }));
    const chunks = Array.from({ length: Math.ceil(json.length / 65_536) }, (_, i) => json.subarray(i * 65_536, (i + 1) * 65_536));
    const res = await postChunked('/v1/registrations', 'application/json', chunks);
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    // The server is still there for the next request.
    expect((await api(server.url, undefined, 'GET', '/v1/categories')).status).toBe(200);
  });

  it('answers 413 to a certificate part over 4 MiB sent to the public verifier, without reading it all', async () => {
    const boundary = 'xxVERIFYxx';
    const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="certificate"; filename="c.json"\r\nContent-Type: application/json\r\n\r\n`);
    // 4 MiB of certificate and then as much again: the answer comes before the rest is sent.
    const chunks = [head, ...Array.from({ length: 128 }, () => Buffer.alloc(65_536, 0x20))];
    const res = await postChunked('/v1/verify', `multipart/form-data; boundary=${boundary}`, chunks);
    expect([res.status, res.body.error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    expect(res.body.error.message).toMatch(/certificate part is larger than 4194304 bytes/);
  });

  it('gets its 413 to a client that sends its whole body without waiting (ten times)', async () => {
    // Closing a socket that still receives makes the client's next write fail (EPIPE) or resets
    // the connection, and the client may never see the answer: the rest of the body is read and
    // dropped instead (up to 64 MiB or 500 ms), then the connection closes.
    const body = Buffer.concat([
      Buffer.from('--b\r\nContent-Disposition: form-data; name="certificate"; filename="c.json"\r\n\r\n'),
      Buffer.alloc(6 * 1024 * 1024, 0x20),
    ]);
    for (let i = 0; i < 10; i++) {
      const res = await new Promise<{ status: number; body: any }>((resolve, reject) => {
        const req = request(`${server.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=b', 'content-length': String(body.length) } });
        req.on('response', (r) => {
          let text = '';
          r.on('data', (d) => (text += d));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, body: JSON.parse(text) }));
        });
        req.on('error', reject);
        req.end(body);
      });
      expect([res.status, res.body.error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    }
  });

  it('refuses a verifier upload with a part other than "file" and "certificate" (400)', async () => {
    const boundary = 'xxPARTSxx';
    const body = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="other"; filename="o.bin"\r\n\r\nabc\r\n--${boundary}--\r\n`);
    const res = await postChunked('/v1/verify', `multipart/form-data; boundary=${boundary}`, [body]);
    expect([res.status, res.body.error.code]).toEqual([400, 'INVALID_INPUT']);
  });

  it('answers 400 to multipart bodies that end before their closing boundary, and stays up', async () => {
    // busboy reports such a body as an error of the part being read: unhandled, it ended the process.
    const boundary = 'xxCUTxx';
    const type = `multipart/form-data; boundary=${boundary}`;
    const filePart = (name: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="a.bin"\r\n\r\nabc`;
    const cases: [string, string][] = [
      ['/v1/registrations', `--${boundary}\r\nContent-Disposition: form-data; name="category"\r\n\r\nagency.digitized\r\n${filePart('file')}`],
      ['/v1/registrations', filePart('other')],
      ['/v1/verify', filePart('file')],
      ['/v1/verify', filePart('certificate')],
      ['/v1/verify', filePart('other')],
    ];
    for (const [path, body] of cases) {
      const res = await postChunked(path, type, [Buffer.from(body)]);
      expect([path, res.status, res.body.error.code]).toEqual([path, 400, 'INVALID_INPUT']);
      expect(res.body.error.message).toMatch(/malformed multipart request: Unexpected end of form/);
    }
    expect((await api(server.url, undefined, 'GET', '/v1/categories')).status).toBe(200);
    const tmp = join(dir.path, 'data', 'blobs', 'tmp');
    expect(existsSync(tmp) ? readdirSync(tmp) : []).toEqual([]);
    expect((await api(server.url, server.adminToken, 'GET', '/v1/registrations')).body.registrations).toEqual([]);
  });

  it('refuses a verifier upload with a part twice, or a third file, instead of taking whichever came last (400)', async () => {
    const boundary = 'xxTWICExx';
    const part = (name: string, content: string, file = true) =>
      `--${boundary}\r\nContent-Disposition: form-data; name="${name}"${file ? `; filename="${name}.bin"` : ''}\r\n\r\n${content}\r\n`;
    for (const parts of [
      [part('file', 'a'), part('file', 'b'), part('certificate', '{}')],
      [part('certificate', '{}', false), part('certificate', '{}', false), part('file', 'a')],
      [part('file', 'a'), part('certificate', '{}'), part('extra', 'c')],
    ]) {
      const res = await postChunked('/v1/verify', `multipart/form-data; boundary=${boundary}`, [Buffer.from(parts.join('') + `--${boundary}--\r\n`)]);
      expect([res.status, res.body.error.code, res.body.error.message]).toEqual([400, 'INVALID_INPUT', 'send one part "file" and one "certificate" (as a file or a field)']);
    }
    // A certificate field over 4 MiB is too large (413), not "invalid JSON" after being cut.
    const big = part('certificate', ' '.repeat(4 * 1024 * 1024 + 10), false);
    const res = await postChunked('/v1/verify', `multipart/form-data; boundary=${boundary}`, [Buffer.from(big + part('file', 'a') + `--${boundary}--\r\n`)]);
    expect([res.status, res.body.error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
  });

  it('takes a verifier upload whose client goes away as the client\'s doing, not an internal error', async () => {
    const boundary = 'xxLEFTxx';
    const req = request(`${server.url}/v1/verify`, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'transfer-encoding': 'chunked' } });
    req.on('error', () => {});
    req.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="f.bin"\r\n\r\n`);
    req.write(randomBytes(16_384));
    await new Promise((r) => setTimeout(r, 200));
    req.destroy();
    await new Promise((r) => setTimeout(r, 300));
    expect(server.output()).not.toMatch(/internal error on POST \/v1\/verify/);
    expect((await api(server.url, undefined, 'GET', '/v1/categories')).status).toBe(200);
  });

  it('removes the partial file of an upload whose client goes away before the end', async () => {
    const boundary = 'xxGONExx';
    const req = request(`${server.url}/v1/registrations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'transfer-encoding': 'chunked' },
    });
    req.on('error', () => {});
    req.write(`--${boundary}\r\nContent-Disposition: form-data; name="category"\r\n\r\nagency.digitized\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="half.bin"\r\n\r\n`);
    for (let i = 0; i < 4; i++) req.write(randomBytes(16_384));
    const tmp = join(dir.path, 'data', 'blobs', 'tmp');
    // The partial file is there while the upload runs…
    await waitFor(() => existsSync(tmp) && readdirSync(tmp).length > 0, 'the upload to start');
    req.destroy();
    // …and gone once the client has left.
    await waitFor(() => readdirSync(tmp).length === 0, 'the partial file to be removed');
    expect((await api(server.url, server.adminToken, 'GET', '/v1/registrations')).body.registrations).toEqual([]);
  });
});

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (condition()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}
