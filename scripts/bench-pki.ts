/**
 * Signing, timestamping and verification per second on one thread, with the committed development
 * PKI (center key EC P-256, TSA key RSA-2048): `npm run bench` prints them as its `pki` phase, and
 * `npx tsx scripts/bench-pki.ts` alone. A fall back to pure-JS RSA (node-forge, ~45 signatures/s
 * here) shows as a drop of an order of magnitude. Verification is measured with both signature
 * engines (node:crypto for the server and CLI, pkijs for the browser) and beside `openssl cms
 * -verify` of the same certificate, a whole process each time, as an expert runs it.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Certificate } from '../src/core/certificate.js';
import { verifyDetachedCms } from '../src/core/cms-verify.js';
import { base64ToBytes } from '../src/core/pem.js';
import { pkijsSignatureEngine, type SignatureEngine } from '../src/core/signature-engine.js';
import { verifyTimestampToken } from '../src/core/timestamp-verify.js';
import { verifyCertificate } from '../src/core/verify-certificate.js';
import { nodeSignatureEngine } from '../src/pki/node-signature-engine.js';
import { signDetached } from '../src/pki/cms-signer.js';
import { loadDevelopmentPki } from '../src/pki/dev-pki.js';
import { BuiltInTimestampAuthority } from '../src/pki/timestamp-authority.js';
import { buildTimestampRequest } from '../src/pki/timestamp-request.js';

/** Operations per second of `op` over about `ms` milliseconds, after a short warm-up. */
async function rate(op: () => unknown, ms = 1_000): Promise<number> {
  for (let i = 0; i < 20; i++) await op();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    await op();
    n++;
  }
  return Math.round((n * 1000) / (performance.now() - start));
}

export interface PkiFigures {
  cmsSignaturesPerSecond: number;
  timestampResponsesPerSecond: number;
  timestampTokensPerSecond: number;
  /** CMS and RFC 3161 verifications with the node:crypto engine (server, CLI) and pkijs (browser). */
  cmsVerificationsPerSecond: { node: number; pkijs: number };
  timestampVerificationsPerSecond: { node: number; pkijs: number };
  /**
   * verifyCertificate of the stored vector certificate (test/vectors/certificate-v1.json), no RPC,
   * in this process, beside `openssl cms -verify` of the same certificate's signature as a whole
   * process (what an expert runs), with each ratio to openssl.
   */
  verifyCertificate: {
    nodePerSecond: number;
    nodeMs: number;
    /** CPU time per verification (this process): on a shared machine, steadier than the wall clock. */
    nodeCpuMs: number;
    pkijsPerSecond: number;
    pkijsMs: number;
    pkijsCpuMs: number;
    opensslCmsVerifyProcessesPerSecond: number;
    opensslMs: number;
    /** CPU time per openssl process (user + system, from the reaped children's times). */
    opensslCpuMs: number;
    nodeToOpenssl: number;
    pkijsToOpenssl: number;
  };
  /**
   * `archive-seal verify FILE CERT` as a whole process (median wall ms of 10 runs, no RPC), beside
   * a bare `node -e 0` (the floor any Node command pays) and `openssl cms -verify` above.
   */
  cliVerify: { medianMs: number; nodeStartMs: number; toNodeStart: number; toOpenssl: number };
}

/** The vector certificate and what verifying it needs. */
function vectorCertificate(): { certificate: Certificate; root: string } {
  const vector = JSON.parse(readFileSync(new URL('../test/vectors/certificate-v1.json', import.meta.url), 'utf8')) as { certificate: Certificate; trustRoot: string };
  return { certificate: vector.certificate, root: readFileSync(new URL(`../${vector.trustRoot}`, import.meta.url), 'utf8') };
}

/** CPU milliseconds of this process's reaped children (Linux /proc; NaN elsewhere). */
function childrenCpuMs(): number {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    // cutime and cstime, fields 16 and 17 of stat(5), counted from field 3 here; clock ticks of 10 ms.
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return Number.NaN;
  }
}

/** Whole `openssl cms -verify` processes per second (and CPU ms each) on the certificate's signature and signed bytes. */
function opensslCmsVerifyRate(certificate: Certificate, root: string, ms = 2_000): { perSecond: number; cpuMs: number } {
  const dir = mkdtempSync(join(tmpdir(), 'archive-seal-bench-pki-'));
  try {
    writeFileSync(join(dir, 'content.json'), base64ToBytes(certificate.signedContent));
    writeFileSync(join(dir, 'signature.der'), base64ToBytes(certificate.signature));
    writeFileSync(join(dir, 'root.pem'), root);
    const attime = String(Math.floor(Date.parse(certificate.content.timestamp.genTime) / 1000));
    const args = ['cms', '-verify', '-binary', '-inform', 'DER', '-in', 'signature.der', '-content', 'content.json', '-CAfile', 'root.pem', '-attime', attime, '-out', '/dev/null'];
    const once = () => {
      const r = spawnSync('openssl', args, { cwd: dir, stdio: 'ignore' });
      if (r.status !== 0) throw new Error('openssl cms -verify failed on the vector certificate');
    };
    for (let i = 0; i < 5; i++) once();
    let n = 0;
    const cpu0 = childrenCpuMs();
    const start = performance.now();
    while (performance.now() - start < ms) {
      once();
      n++;
    }
    return { perSecond: Math.round((n * 1000) / (performance.now() - start)), cpuMs: Math.round(((childrenCpuMs() - cpu0) / n) * 100) / 100 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function certificateRate(certificate: Certificate, root: string, engine: SignatureEngine): Promise<{ perSecond: number; cpuMs: number }> {
  // The vector is a development certificate anchored on a local chain: allowed here, and every
  // step but the anchor (no RPC) must hold, or a rate of failing checks would mean nothing.
  const input = { certificate, file: certificate.content.record.digests, trustRoots: [root], engine, allowDevelopment: true };
  const first = await verifyCertificate(input);
  if (first.steps.some((s) => s.step !== 'anchor' && s.status !== 'ok')) throw new Error(`the vector certificate did not verify with ${engine.name}: ${JSON.stringify(first.steps)}`);
  for (let i = 0; i < 20; i++) await verifyCertificate(input);
  let n = 0;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  while (performance.now() - start < 2_000) {
    await verifyCertificate(input);
    n++;
  }
  const cpu = process.cpuUsage(cpu0);
  return { perSecond: Math.round((n * 1000) / (performance.now() - start)), cpuMs: Math.round(((cpu.user + cpu.system) / 1000 / n) * 100) / 100 };
}

/** Median wall ms of `runs` whole processes of `command`. */
function medianProcessMs(command: string, args: readonly string[], runs = 10): number {
  const times: number[] = [];
  for (let i = 0; i < runs + 1; i++) {
    const start = performance.now();
    spawnSync(command, args, { stdio: 'ignore' });
    if (i > 0) times.push(performance.now() - start); // the first run warms the page cache
  }
  times.sort((a, b) => a - b);
  return Math.round(((times[(runs - 1) >> 1]! + times[runs >> 1]!) / 2) * 10) / 10;
}

/** `archive-seal verify` of the vector certificate and its file, as a user runs it. */
function cliVerifyMs(): number {
  const vector = JSON.parse(readFileSync(new URL('../test/vectors/certificate-v1.json', import.meta.url), 'utf8')) as { certificate: Certificate; file: string };
  const dir = mkdtempSync(join(tmpdir(), 'archive-seal-bench-cli-'));
  try {
    writeFileSync(join(dir, 'file'), Buffer.from(vector.file, 'base64'));
    writeFileSync(join(dir, 'cert.json'), JSON.stringify(vector.certificate));
    const bin = fileURLToPath(new URL('../bin/archive-seal.js', import.meta.url));
    const args = [bin, 'verify', join(dir, 'file'), join(dir, 'cert.json'), '--trust', fileURLToPath(new URL('../certs/dev/root-ca.pem', import.meta.url)), '--allow-development'];
    const check = spawnSync(process.execPath, args, { encoding: 'utf8' });
    if (!/^ok +signature/m.test(check.stdout) || !/^ok +file-digests/m.test(check.stdout)) throw new Error(`archive-seal verify did not check the vector certificate: ${check.stdout}${check.stderr}`);
    return medianProcessMs(process.execPath, args);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchPki(): Promise<PkiFigures> {
  const pki = loadDevelopmentPki();
  const root = pki.roots[0]!.pem;
  const payload = new Uint8Array(4096).fill(0x61);
  const digest = new Uint8Array(createHash('sha256').update(payload).digest());
  const tsa = new BuiltInTimestampAuthority({ identity: pki.tsa });
  const request = buildTimestampRequest({ sha256Digest: digest, nonce: 123456789n, certReq: true });
  const signature = signDetached(payload, pki.center);
  const { token } = await tsa.timestamp(digest);
  // Both checks pass once first: a rate of failing verifications would mean nothing.
  const cms = await verifyDetachedCms(signature, payload, [root]);
  if (cms.status !== 'ok') throw new Error(`the sample signature did not verify: ${cms.message}`);
  const stamp = await verifyTimestampToken(token, digest, [root]);
  if (stamp.status !== 'ok') throw new Error(`the sample timestamp did not verify: ${stamp.message}`);
  const vector = vectorCertificate();
  const nodeRate = await certificateRate(vector.certificate, vector.root, nodeSignatureEngine);
  const pkijsRate = await certificateRate(vector.certificate, vector.root, pkijsSignatureEngine);
  const opensslRate = opensslCmsVerifyRate(vector.certificate, vector.root);
  const ms = (perSecond: number) => Math.round((1000 / perSecond) * 100) / 100;
  const cli = cliVerifyMs();
  const nodeStart = medianProcessMs(process.execPath, ['-e', '0']);
  const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
  return {
    cmsSignaturesPerSecond: await rate(() => signDetached(payload, pki.center)),
    timestampResponsesPerSecond: await rate(() => tsa.respond(request)),
    timestampTokensPerSecond: await rate(() => tsa.timestamp(digest)),
    cmsVerificationsPerSecond: {
      node: await rate(() => verifyDetachedCms(signature, payload, [root], { engine: nodeSignatureEngine })),
      pkijs: await rate(() => verifyDetachedCms(signature, payload, [root], { engine: pkijsSignatureEngine })),
    },
    timestampVerificationsPerSecond: {
      node: await rate(() => verifyTimestampToken(token, digest, [root], { engine: nodeSignatureEngine })),
      pkijs: await rate(() => verifyTimestampToken(token, digest, [root], { engine: pkijsSignatureEngine })),
    },
    verifyCertificate: {
      nodePerSecond: nodeRate.perSecond,
      nodeMs: ms(nodeRate.perSecond),
      nodeCpuMs: nodeRate.cpuMs,
      pkijsPerSecond: pkijsRate.perSecond,
      pkijsMs: ms(pkijsRate.perSecond),
      pkijsCpuMs: pkijsRate.cpuMs,
      opensslCmsVerifyProcessesPerSecond: opensslRate.perSecond,
      opensslMs: ms(opensslRate.perSecond),
      opensslCpuMs: opensslRate.cpuMs,
      nodeToOpenssl: ratio(nodeRate.perSecond, opensslRate.perSecond),
      pkijsToOpenssl: ratio(pkijsRate.perSecond, opensslRate.perSecond),
    },
    cliVerify: { medianMs: cli, nodeStartMs: nodeStart, toNodeStart: ratio(cli, nodeStart), toOpenssl: ratio(cli, ms(opensslRate.perSecond)) },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(await benchPki(), null, 2));
}
