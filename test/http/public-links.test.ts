import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { writePkiSet } from '../../src/pki/key-management.js';
import { startExternalChain, waitFor, type ExternalChain } from '../helpers/external-chain.js';
import { api, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { makeTestCenter } from '../helpers/test-center.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { strangerPkiFiles } from '../pki/pki-test-kit.js';

// The links and QR codes the center hands out (certificate PDFs, the verifier page's own
// address) come from ARCHIVE_SEAL_PUBLIC_URL, or a Host header that is a plain host name, or the
// address the server was reached at: never from whatever a client put into Host. Nothing a
// client sends in Host gives a 500. Raw sockets, because an HTTP client refuses to send such headers.
const dir = makeTempDir('archive-seal-links-');
let chain: ExternalChain | undefined;
let server: ServerProcess | undefined;
let certificateId: string;
let registrationId: number;

beforeAll(async () => {
  chain = await startExternalChain(dir.path, { confirmations: 1 });
  server = await startServerProcess(join(dir.path, 'data'), { ARCHIVE_SEAL_CHAINS: chain.chainsFile });
  const form = new FormData();
  form.append('category', 'livelihood.marriage');
  form.append('file', new Blob([new Uint8Array(randomBytes(1000))]), 'links.bin');
  const registered = await fetch(`${server.url}/v1/registrations`, { method: 'POST', headers: { authorization: `Bearer ${server.adminToken}` }, body: form });
  registrationId = ((await registered.json()) as { id: number }).id;
  expect((await api(server.url, server.adminToken, 'POST', '/v1/periods/seal')).status).toBe(201);
  const link = await waitFor('the certificate', async () => {
    const res = await fetch(`${server!.url}/v1/registrations/${registrationId}/certificate`, { headers: { authorization: `Bearer ${server!.adminToken}` } });
    return res.status === 200 ? res.headers.get('content-location')! : undefined;
  });
  certificateId = link.split('/').pop()!;
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await chain?.stop();
  dir.remove();
});

/** One request over a raw socket, with the Host line exactly as given. */
function rawGet(url: string, path: string, host: string, extra = ''): Promise<{ status: number; headers: string; body: Buffer }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', reject);
    socket.on('end', () => {
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      const headers = all.subarray(0, split).toString('latin1');
      let body: Buffer = all.subarray(split + 4);
      if (/transfer-encoding:\s*chunked/i.test(headers)) body = dechunk(body);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(headers)?.[1]), headers, body });
    });
    socket.write(Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${extra}Connection: close\r\n\r\n`, 'latin1'));
  });
}

function dechunk(body: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', at);
    const size = parseInt(body.subarray(at, eol).toString('latin1'), 16);
    if (!size) return Buffer.concat(out);
    out.push(body.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

function pdfText(pdf: Buffer, name: string): string {
  const file = join(dir.path, `${name}.pdf`);
  writeFileSync(file, pdf);
  return execFileSync('pdftotext', ['-raw', file, '-'], { encoding: 'utf8' });
}

function qrOf(pdf: Buffer, name: string): string {
  const file = join(dir.path, `${name}.pdf`);
  writeFileSync(file, pdf);
  execFileSync('pdftoppm', ['-r', '150', '-png', '-singlefile', file, join(dir.path, name)]);
  return execFileSync('zbarimg', ['-q', '--raw', join(dir.path, `${name}.png`)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
}

describe('links the center hands out', () => {
  it('a 3,000-character Host: the public PDF answers 200, its link and QR code name the address the server was reached at', async () => {
    const res = await rawGet(server!.url, `/v1/certificates/${certificateId}?format=pdf`, 'a'.repeat(3000));
    expect(res.status).toBe(200);
    expect(res.body.subarray(0, 5).toString()).toBe('%PDF-');
    const expected = `${server!.url}/verify#cert=/v1/certificates/${certificateId}`;
    expect(qrOf(res.body, 'long-host')).toBe(expected);
    expect(pdfText(res.body, 'long-host').replace(/\s+/g, '')).toContain(expected);
  });

  it("a 3,000-character Host on the owner's PDF route and on the verifier page: no 500", async () => {
    const owner = await rawGet(server!.url, `/v1/registrations/${registrationId}/certificate?format=pdf`, 'b'.repeat(3000), `Authorization: Bearer ${server!.adminToken}\r\n`);
    expect(owner.status).toBe(200);
    const page = await rawGet(server!.url, '/verify', 'c'.repeat(3000));
    expect(page.status).toBe(200);
    expect(page.body.toString('utf8')).toContain(`"origin":"${server!.url}"`);
  });

  it('a Host that is not a plain host name (markup, a path, spaces) is not copied into links', async () => {
    for (const host of ['evil.example"><script>alert(1)</script>', 'evil.example/phish', 'evil example', `${'x'.repeat(64)}.example`]) {
      const res = await rawGet(server!.url, `/v1/certificates/${certificateId}?format=pdf`, host);
      expect(res.status, host).toBeLessThan(500);
      if (res.status === 200) expect(qrOf(res.body, 'odd-host'), host).toBe(`${server!.url}/verify#cert=/v1/certificates/${certificateId}`);
    }
  });

  it('control characters in Host: 400, never 500', async () => {
    for (const host of ['a\x01b', 'a\x7fb', 'a\tb\x00']) {
      const res = await rawGet(server!.url, `/v1/certificates/${certificateId}?format=pdf`, host);
      expect(res.status, JSON.stringify(host)).toBe(400);
    }
  });

  it('a plain host name with a port, as a reverse proxy passes it, is used', async () => {
    const res = await rawGet(server!.url, `/v1/certificates/${certificateId}?format=pdf`, 'records.example.gov.cn:8443');
    expect(res.status).toBe(200);
    expect(qrOf(res.body, 'proxy-host')).toBe(`http://records.example.gov.cn:8443/verify#cert=/v1/certificates/${certificateId}`);
  });

  it('with ARCHIVE_SEAL_PUBLIC_URL, the link is that, whatever Host says', async () => {
    await server!.stop();
    server = await startServerProcess(join(dir.path, 'data'), { ARCHIVE_SEAL_CHAINS: chain!.chainsFile, ARCHIVE_SEAL_PUBLIC_URL: 'https://records.example.gov.cn/archive/' });
    const res = await rawGet(server.url, `/v1/certificates/${certificateId}?format=pdf`, 'attacker.example');
    expect(res.status).toBe(200);
    expect(qrOf(res.body, 'public-url')).toBe(`https://records.example.gov.cn/archive/verify#cert=/v1/certificates/${certificateId}`);
  });
});

describe('ARCHIVE_SEAL_PUBLIC_URL at start', () => {
  it('is refused when longer than a QR code can carry with a link', () => {
    expect(() => loadConfig({ ARCHIVE_SEAL_PUBLIC_URL: `https://records.example.gov.cn/${'a'.repeat(600)}` })).toThrow(ConfigError);
  });

  it('missing on a real PKI: the center starts and warns; on the development PKI it does not warn', async () => {
    const pkiDir = makeTempDir('archive-seal-links-pki-');
    writePkiSet(pkiDir.path, strangerPkiFiles(), { overwrite: true });
    const real = await makeTestCenter({ ARCHIVE_SEAL_PKI_DIR: pkiDir.path, ARCHIVE_SEAL_CENTER_NAME: '衢州市电子文件登记备份中心' });
    const dev = await makeTestCenter();
    try {
      expect(real.logs.join('\n')).toContain('warning: ARCHIVE_SEAL_PUBLIC_URL is not set');
      expect(dev.logs.join('\n')).not.toContain('ARCHIVE_SEAL_PUBLIC_URL is not set');
    } finally {
      await real.destroy();
      await dev.destroy();
      pkiDir.remove();
    }
  });
});
