import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalBytes } from '../../src/core/canonical-json.js';
import { bytesToBase64 } from '../../src/core/pem.js';
import { signDetached } from '../../src/pki/cms-signer.js';
import { DEVELOPMENT_CERTS_DIR, loadDevelopmentPki } from '../../src/pki/dev-pki.js';
import { startExternalChain, waitFor, type ExternalChain } from '../helpers/external-chain.js';
import { api, runCli, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// A certificate from a real center, checked by our CLI, by the public API, and by openssl alone.
const dir = makeTempDir();
const ROOT_PEM = join(DEVELOPMENT_CERTS_DIR, 'root-ca.pem');
// This center runs the development PKI and anchors on a local anvil (chain 31337): the CLI must be
// told to trust that root and to accept development keys and chains, as a test of the software.
const DEV = ['--trust', ROOT_PEM, '--allow-development'];
let chain: ExternalChain;
let server: ServerProcess;
let env: Record<string, string>;
let registrationId: number;
const file = join(dir.path, '竣工图.pdf');
const certFile = join(dir.path, 'certificate.json');

beforeAll(async () => {
  chain = await startExternalChain(dir.path, { confirmations: 1 });
  server = await startServerProcess(join(dir.path, 'data'), { ARCHIVE_SEAL_CHAINS: chain.chainsFile });
  env = { ARCHIVE_SEAL_SERVER: server.url, ARCHIVE_SEAL_TOKEN: server.adminToken };
  writeFileSync(file, randomBytes(20_000));
  const registered = await runCli(['register', file, '--category', 'project.as-built-drawings', '--json'], env);
  expect(registered.code).toBe(0);
  registrationId = JSON.parse(registered.stdout)[0].id;
});
afterAll(async () => {
  await server?.stop();
  await chain?.stop();
  dir.remove();
});

describe('certificates', () => {
  it('answers 409 NOT_YET_ANCHORED before the period is anchored, then the certificate', async () => {
    const early = await api(server.url, server.adminToken, 'GET', `/v1/registrations/${registrationId}/certificate`);
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('NOT_YET_ANCHORED');
    expect((await api(server.url, server.adminToken, 'POST', '/v1/periods/seal')).status).toBe(201);
    await waitFor('anchored', async () => ((await api(server.url, undefined, 'GET', '/v1/periods/1')).body.anchored ? true : undefined));
    const fetched = await runCli(['certificate', String(registrationId), '--out', certFile], env);
    expect(fetched.code).toBe(0);
    const cert = JSON.parse(readFileSync(certFile, 'utf8'));
    expect(cert).toMatchObject({ format: 'archive-seal/certificate@1', content: { record: { registrationId, fileName: '竣工图.pdf' }, issuer: { development: true } } });
    expect(cert.content.anchors).toEqual([expect.objectContaining({ chainId: 31337, contract: chain.contract, independent: false })]);
  });

  it('is verified by the CLI with the chain, development allowed: exit 0, every step ok, said to be no evidence', async () => {
    const res = await runCli(['verify', file, certFile, '--rpc', chain.rpcUrl, ...DEV]);
    expect(res.stdout).toMatch(/^AUTHENTIC: registration \d+ of dev-center, period 1 \(development keys or chain accepted by --allow-development: NOT EVIDENCE\)$/m);
    expect(res.code).toBe(0);
    // Without --allow-development the same certificate is CANNOT BE DETERMINED: its keys are public.
    const strict = await runCli(['verify', file, certFile, '--rpc', chain.rpcUrl, '--trust', ROOT_PEM]);
    expect(strict.stdout).toMatch(/^CANNOT BE DETERMINED: /m);
    expect(strict.code).toBe(3);
    const json = JSON.parse((await runCli(['verify', file, certFile, '--rpc', chain.rpcUrl, '--json', ...DEV])).stdout);
    expect(json).toMatchObject({ verdict: 'AUTHENTIC', authentic: true, developmentAllowed: true });
    expect(json.steps.map((s: any) => `${s.step}:${s.status}`)).toEqual([
      'format:ok', 'signature:ok', 'file-digests:ok', 'record-digest:ok', 'leaf:ok', 'merkle-path:ok', 'timestamp:ok', 'long-term:ok', 'anchor:ok',
    ]);
  });

  it('without an RPC the anchor is skipped and said so (exit 3); a changed file exits 1; bad input exits 2', async () => {
    const noRpc = await runCli(['verify', file, certFile, ...DEV]);
    expect(noRpc.code).toBe(3);
    expect(noRpc.stdout).toMatch(/skipped\s+anchor .*not checked/);
    expect(noRpc.stdout).toMatch(/what to do: give the JSON-RPC URL of a node of chain 31337/);
    const changed = join(dir.path, 'changed.pdf');
    const bytes = readFileSync(file);
    bytes[100]! ^= 0xff;
    writeFileSync(changed, bytes);
    const bad = await runCli(['verify', changed, certFile, ...DEV]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/FAILED\s+file-digests\s+\[FILE_DIGEST_MISMATCH\]/);
    expect((await runCli(['verify', join(dir.path, 'nope'), certFile])).code).toBe(2);
    expect((await runCli(['verify', file, join(dir.path, 'nope.json')])).code).toBe(2);
    expect((await runCli(['verify', file])).code).toBe(2);
  });

  it('checks out with openssl alone: the center signature (cms) and the timestamp (ts)', () => {
    const cert = JSON.parse(readFileSync(certFile, 'utf8'));
    const content = join(dir.path, 'content.json');
    const sig = join(dir.path, 'signature.der');
    writeFileSync(content, Buffer.from(cert.signedContent, 'base64'));
    writeFileSync(sig, Buffer.from(cert.signature, 'base64'));
    const cms = execFileSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', sig, '-content', content, '-CAfile', ROOT_PEM, '-out', '/dev/null'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(cms).toBe('');
    // The signed bytes are exactly the content shown.
    expect(JSON.parse(readFileSync(content, 'utf8'))).toEqual(cert.content);
    const token = join(dir.path, 'token.der');
    writeFileSync(token, Buffer.from(cert.content.timestamp.token, 'base64'));
    const ts = execFileSync('openssl', ['ts', '-verify', '-digest', cert.content.period.root, '-sha256', '-in', token, '-token_in', '-CAfile', ROOT_PEM, '-untrusted', join(DEVELOPMENT_CERTS_DIR, 'tsa.pem')], { encoding: 'utf8' });
    expect(ts).toContain('Verification: OK');
    // And sha256sum of the file is the recorded digest.
    expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(cert.content.record.digests.sha256);
  });

  it('is verified by the public POST /v1/verify with the file (multipart) or its digests', async () => {
    const cert = readFileSync(certFile, 'utf8');
    const form = new FormData();
    form.append('certificate', cert);
    form.append('file', new Blob([new Uint8Array(readFileSync(file))]), 'x.pdf');
    const res = await fetch(`${server.url}/v1/verify`, { method: 'POST', body: form });
    const report = await res.json();
    expect(res.status).toBe(200);
    // The center never accepts development keys or chains: its own development certificate is
    // CANNOT BE DETERMINED, though its registry agrees and the chain holds the root.
    expect(report).toMatchObject({ verdict: 'CANNOT_BE_DETERMINED', authentic: false });
    expect(report.steps.find((s: any) => s.step === 'signature')).toMatchObject({ status: 'undetermined', code: 'CMS_DEVELOPMENT_PKI' });
    expect(report.steps.find((s: any) => s.step === 'anchor')).toMatchObject({ status: 'undetermined', code: 'ANCHOR_DEVELOPMENT_CHAIN', details: { checked: 'OK' } });
    expect(report.steps.find((s: any) => s.step === 'registry')).toMatchObject({ status: 'ok' });
    const byDigest = await api(server.url, undefined, 'POST', '/v1/verify', { certificate: JSON.parse(cert), digests: { sha256: 'ab'.repeat(32) } });
    expect(byDigest.body).toMatchObject({ verdict: 'NOT_AUTHENTIC', authentic: false });
    expect(byDigest.body.steps.find((s: any) => s.step === 'file-digests').code).toBe('FILE_DIGEST_MISMATCH');
    const malformed = await api(server.url, undefined, 'POST', '/v1/verify', { certificate: JSON.parse(cert), digests: { sha256: 'nothex' } });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('INVALID_DIGEST');
  });

  it("catches a block time that is not the block's, even re-signed with the center's key", async () => {
    const cert = JSON.parse(readFileSync(certFile, 'utf8'));
    cert.content.anchors[0].blockTime = '2020-01-01T00:00:00.000Z';
    const signed = canonicalBytes(cert.content);
    cert.signedContent = bytesToBase64(signed);
    cert.signature = bytesToBase64(signDetached(signed, loadDevelopmentPki().center));
    const edited = join(dir.path, 'block-time.json');
    writeFileSync(edited, JSON.stringify(cert));
    const res = await runCli(['verify', file, edited, '--rpc', chain.rpcUrl, '--json', ...DEV]);
    expect(res.code).toBe(1);
    const report = JSON.parse(res.stdout);
    expect(report.steps.find((s: any) => s.step === 'signature').status).toBe('ok');
    expect(report.steps.find((s: any) => s.step === 'anchor')).toMatchObject({ status: 'failed', code: 'ANCHOR_BLOCK_TIME_MISMATCH' });
  });

  it('catches an anchor pointing at another period’s transaction, and a chain without the event', async () => {
    // A second period, anchored: its transaction is "another period's".
    await api(server.url, server.adminToken, 'POST', '/v1/registrations', { sha256: 'cd'.repeat(32), category: 'agency.documents' });
    await api(server.url, server.adminToken, 'POST', '/v1/periods/seal');
    const p2 = await waitFor('period 2 anchored', async () => {
      const p = (await api(server.url, undefined, 'GET', '/v1/periods/2')).body;
      return p.anchored ? p : undefined;
    });
    const other = p2.anchors.find((a: any) => a.status === 'confirmed');
    const cert = JSON.parse(readFileSync(certFile, 'utf8'));
    Object.assign(cert.content.anchors[0], { txHash: other.txHash, blockNumber: other.blockNumber, blockHash: other.blockHash });
    const moved = join(dir.path, 'moved-anchor.json');
    writeFileSync(moved, JSON.stringify(cert));
    const res = await runCli(['verify', file, moved, '--rpc', chain.rpcUrl, '--json', ...DEV]);
    expect(res.code).toBe(1);
    const anchorStep = JSON.parse(res.stdout).steps.find((s: any) => s.step === 'anchor');
    expect(anchorStep).toMatchObject({ status: 'failed', code: 'ANCHOR_EVENT_MISMATCH' });

    // A fresh chain with the same id where nothing was ever anchored.
    const emptyDir = makeTempDir();
    const empty = await startExternalChain(emptyDir.path, { confirmations: 1 });
    try {
      const res2 = await runCli(['verify', file, certFile, '--rpc', empty.rpcUrl, '--json', ...DEV]);
      expect(res2.code).toBe(1);
      const step = JSON.parse(res2.stdout).steps.find((s: any) => s.step === 'anchor');
      expect(step.status).toBe('failed');
      expect(['ANCHOR_NOT_FOUND', 'ANCHOR_BLOCK_REORGED', 'ANCHOR_ROOT_MISMATCH', 'ANCHOR_EVENT_MISSING', 'ANCHOR_TX_NOT_FOUND']).toContain(step.code);
    } finally {
      await empty.stop();
      emptyDir.remove();
    }
  });
});
