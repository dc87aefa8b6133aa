/**
 * Writes test/vectors/certificate-v1.json: a real certificate, issued by a center on its embedded
 * defaults (development PKI, built-in TSA, a local chain), with the file it certifies. Certificates
 * of this format must keep verifying in every later version (test/vectors.test.ts).
 * Frozen once written: `--force` to rewrite.
 *
 *   npx tsx scripts/make-certificate-vector.ts [--force]
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { buildCenter } from '../src/server.js';

const OUT = join(import.meta.dirname, '..', 'test', 'vectors', 'certificate-v1.json');
if (existsSync(OUT) && !process.argv.includes('--force')) {
  console.log('certificate-v1.json: exists, left as it is (vectors are frozen; --force to rewrite)');
  process.exit(0);
}
const dir = mkdtempSync(join(tmpdir(), 'archive-seal-vector-'));
const center = await buildCenter(
  loadConfig({ ARCHIVE_SEAL_DATA_DIR: dir, ARCHIVE_SEAL_SEAL_SCHEDULE: 'off', ARCHIVE_SEAL_LOCAL_CHAIN_PORT: '0' }),
  () => {},
);
try {
  const admin = { accountId: 1, name: 'admin', role: 'admin' as const, pseudonymous: false };
  const file = Buffer.from('衢州市婚姻登记档案 / marriage registration record, sample for test vectors\n', 'utf8');
  const { outcomes: [outcome] } = await center.registrations.register(admin, [
    {
      sha256: createHash('sha256').update(file).digest('hex'),
      sm3: createHash('sm3').update(file).digest('hex'),
      size: file.length,
      fileName: '婚姻登记表-样例.txt',
      mediaType: 'text/plain',
      title: '婚姻登记表(样例)',
      category: 'livelihood.marriage',
      metadata: { fondsCode: 'J001', archivalCode: 'J001-2026-Y-0001', retentionPeriod: '永久' },
      hasFile: false,
    },
  ]);
  await center.sealer.seal({ allowEmpty: false });
  await center.timestamper.idle();
  await center.anchoring.settle();
  const issued = center.certificates.issue(admin, outcome!.registration.id);
  writeFileSync(
    OUT,
    JSON.stringify(
      {
        format: 'archive-seal/certificate-vector@1',
        source: 'scripts/make-certificate-vector.ts: a center on its embedded defaults (development PKI certs/dev, built-in TSA, local anvil chain)',
        trustRoot: 'certs/dev/root-ca.pem',
        file: file.toString('base64'),
        certificate: issued.certificate,
      },
      null,
      1,
    ) + '\n',
  );
  console.log('certificate-v1.json: written');
} finally {
  await center.close();
  rmSync(dir, { recursive: true, force: true });
}
