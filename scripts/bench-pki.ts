/**
 * Signing, timestamping and verification per second on one thread, with the committed development
 * PKI (center key EC P-256, TSA key RSA-2048): `npm run bench` prints them as its `pki` phase, and
 * `npx tsx scripts/bench-pki.ts` alone. A fall back to pure-JS RSA (node-forge, ~45 signatures/s
 * here) shows as a drop of an order of magnitude.
 */
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { verifyDetachedCms } from '../src/core/cms-verify.js';
import { verifyTimestampToken } from '../src/core/timestamp-verify.js';
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
  cmsVerificationsPerSecond: number;
  timestampVerificationsPerSecond: number;
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
  return {
    cmsSignaturesPerSecond: await rate(() => signDetached(payload, pki.center)),
    timestampResponsesPerSecond: await rate(() => tsa.respond(request)),
    timestampTokensPerSecond: await rate(() => tsa.timestamp(digest)),
    cmsVerificationsPerSecond: await rate(() => verifyDetachedCms(signature, payload, [root])),
    timestampVerificationsPerSecond: await rate(() => verifyTimestampToken(token, digest, [root])),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(await benchPki(), null, 2));
}
