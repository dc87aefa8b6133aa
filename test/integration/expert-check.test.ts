import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalBytes } from '../../src/core/canonical-json.js';
import { bytesToBase64 } from '../../src/core/pem.js';
import { signDetached } from '../../src/pki/cms-signer.js';
import { DEVELOPMENT_CERTS_DIR, loadDevelopmentPki } from '../../src/pki/dev-pki.js';
import { makeCenterPki } from '../../src/pki/key-management.js';
import { startExternalChain, waitFor, type ExternalChain } from '../helpers/external-chain.js';
import { api, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// The README's "Checking a certificate without our code" block, run as written against a real
// center and chain: the procedure a court's expert follows must stay true.
const README = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
const block = /<!-- expert-check:begin -->\s*```bash\n([\s\S]*?)```\s*<!-- expert-check:end -->/.exec(README)?.[1];

const dir = makeTempDir();
let chain: ExternalChain;
let server: ServerProcess;
let certFile: string;
let file: string;

beforeAll(async () => {
  chain = await startExternalChain(dir.path, { confirmations: 1 });
  server = await startServerProcess(join(dir.path, 'data'), { ARCHIVE_SEAL_CHAINS: chain.chainsFile });
  // Several registrations, so the proof has a path of more than one step.
  const contents = Array.from({ length: 7 }, () => randomBytes(3000));
  file = join(dir.path, 'evidence.bin');
  writeFileSync(file, contents[4]!);
  const entries: Record<string, unknown>[] = contents.map((c) => ({ sha256: createHash('sha256').update(c).digest('hex'), sm3: createHash('sm3').update(c).digest('hex'), category: 'agency.documents' }));
  // The certified record holds what tells RFC 8785 from a plain JSON library: keys that sort
  // differently by UTF-16 code unit (RFC 8785) and by code point (U+1F600 against U+FF5A),
  // escapes (TAB and LF: the only controls the text rule lets into metadata), Chinese text, a large integer.
  entries[4]!.title = '关于“登记备份”的通知 — 2026';
  entries[4]!.metadata = { 档号: 'J001-2026-Y-0001', '😀': 'a', 'ｚ': 'b', note: 'line 1\nline 2\t"quoted" \\', pages: 9007199254740991, nested: [{ b: 1, a: -2 }] };
  const batch = await api(server.url, server.adminToken, 'POST', '/v1/registrations/batch', { entries });
  await api(server.url, server.adminToken, 'POST', '/v1/periods/seal');
  await waitFor('anchored', async () => ((await api(server.url, undefined, 'GET', '/v1/periods/1')).body.anchored ? true : undefined));
  const cert = await api(server.url, server.adminToken, 'GET', `/v1/registrations/${batch.body.registrations[4].id}/certificate`);
  certFile = join(dir.path, 'certificate.json');
  writeFileSync(certFile, JSON.stringify(cert.body, null, 2));
});
afterAll(async () => {
  await server?.stop();
  await chain?.stop();
  dir.remove();
});

// Plain bash, as the README says to run it: the block's own set -e must stop it.
function runExpertCheck(env: Record<string, string>): { code: number; out: string } {
  try {
    const out = execFileSync('bash', ['-c', block!], { cwd: dir.path, env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: 0, out };
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string };
    return { code: e.status, out: e.stdout + e.stderr };
  }
}

describe("the README's check by hand", () => {
  it('is in the README', () => expect(block).toBeDefined());

  it('passes every step for an authentic file and certificate', () => {
    const { code, out } = runExpertCheck({ FILE: file, CERT: certFile, ROOT: join(DEVELOPMENT_CERTS_DIR, 'root-ca.pem'), RPC: chain.rpcUrl });
    expect(out).not.toContain('MISMATCH');
    expect(code).toBe(0);
    for (const line of [
      'ok: SHA-256 of the file',
      'ok: SM3 of the file',
      'ok: record digest',
      'ok: salted leaf',
      'ok: Merkle path to the period root',
      "ok: the token's genTime is the one stated",
      'ok: the node serves the recorded chain',
      'ok: rootOf(period) on chain',
      'ok: transaction succeeded',
      'ok: event from the recorded contract',
      'ok: PeriodAnchored event',
      "ok: event's root",
      "ok: event's previous root",
      'ok: block still canonical',
      'ok: block time is the one stated',
    ]) {
      expect(out).toContain(line);
    }
    expect(out).toContain('Verification: OK');
    const cert = JSON.parse(readFileSync(certFile, 'utf8'));
    expect(cert.content.proof.path.length).toBeGreaterThan(1);
  });

  it('stops at the first failed openssl step, printing no later "ok"', () => {
    // Another root: the signature does not chain, and nothing after step 1 runs.
    const stranger = join(dir.path, 'stranger-root.pem');
    writeFileSync(stranger, makeCenterPki({ centerName: 'Stranger' }).rootCertPem);
    const { code, out } = runExpertCheck({ FILE: file, CERT: certFile, ROOT: stranger, RPC: chain.rpcUrl });
    expect(code).not.toBe(0);
    expect(out).not.toContain('ok:');
  });

  it('stops at the genTime step for a certificate whose stated time is not the token\'s, re-signed with the center key', () => {
    const cert = JSON.parse(readFileSync(certFile, 'utf8'));
    cert.content.timestamp.genTime = new Date(Date.parse(cert.content.timestamp.genTime) - 3_600_000).toISOString();
    const signed = canonicalBytes(cert.content);
    cert.signedContent = bytesToBase64(signed);
    cert.signature = bytesToBase64(signDetached(signed, loadDevelopmentPki().center));
    const edited = join(dir.path, 'gentime.json');
    writeFileSync(edited, JSON.stringify(cert));
    const { code, out } = runExpertCheck({ FILE: file, CERT: edited, ROOT: join(DEVELOPMENT_CERTS_DIR, 'root-ca.pem'), RPC: chain.rpcUrl });
    expect(code).not.toBe(0);
    expect(out).toContain('ok: Merkle path to the period root');
    expect(out).toContain("MISMATCH: the token's genTime is the one stated");
    expect(out).not.toContain('ok: rootOf(period) on chain');
  });

  it('stops at the file step for another file', () => {
    const other = join(dir.path, 'other.bin');
    writeFileSync(other, randomBytes(100));
    const { code, out } = runExpertCheck({ FILE: other, CERT: certFile, ROOT: join(DEVELOPMENT_CERTS_DIR, 'root-ca.pem'), RPC: chain.rpcUrl });
    expect(code).not.toBe(0);
    expect(out).toContain('MISMATCH: SHA-256 of the file');
  });
});
