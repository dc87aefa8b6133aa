import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyDetachedCms } from '../../src/core/cms-verify.js';
import { verifyTimestampToken } from '../../src/core/timestamp-verify.js';
import { signDetached } from '../../src/pki/cms-signer.js';
import { BuiltInTimestampAuthority } from '../../src/pki/timestamp-authority.js';
import { buildTimestampRequest } from '../../src/pki/timestamp-request.js';
import { devPki } from './pki-test-kit.js';

/** Operations per second of `op` over about `ms` milliseconds (after a short warm-up). */
async function rate(op: () => unknown, ms = 600): Promise<number> {
  for (let i = 0; i < 20; i++) await op();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    await op();
    n++;
  }
  return Math.round((n * 1000) / (performance.now() - start));
}

// Floors are far below what a 2-core machine does (see the log line); they catch a fall back to
// pure-JS RSA (forge: ~45/s), not noise.
describe('PKI throughput (RSA-2048, one thread)', () => {
  it('signs, timestamps and verifies fast enough', async () => {
    const pki = devPki();
    const root = pki.roots[0]!.pem;
    const payload = new Uint8Array(4096).fill(0x61);
    const digest = new Uint8Array(createHash('sha256').update(payload).digest());
    const tsa = new BuiltInTimestampAuthority({ identity: pki.tsa });
    const request = buildTimestampRequest({ sha256Digest: digest, nonce: 123456789n, certReq: true });
    const signature = signDetached(payload, pki.center);
    const { token } = await tsa.timestamp(digest);

    const figures = {
      cmsSignaturesPerSecond: await rate(() => signDetached(payload, pki.center)),
      timestampResponsesPerSecond: await rate(() => tsa.respond(request)),
      timestampTokensPerSecond: await rate(() => tsa.timestamp(digest)),
      cmsVerificationsPerSecond: await rate(() => verifyDetachedCms(signature, payload, [root])),
      timestampVerificationsPerSecond: await rate(() => verifyTimestampToken(token, digest, [root])),
    };
    console.log(`PKI throughput: ${JSON.stringify(figures)}`);
    expect(figures.cmsSignaturesPerSecond).toBeGreaterThan(200);
    expect(figures.timestampResponsesPerSecond).toBeGreaterThan(200);
    expect(figures.cmsVerificationsPerSecond).toBeGreaterThan(5);
    expect(figures.timestampVerificationsPerSecond).toBeGreaterThan(5);
  });
});
