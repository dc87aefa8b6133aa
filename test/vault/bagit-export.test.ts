import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalize } from '../../src/core/canonical-json.js';
import { hexToBytes } from '../../src/core/hex.js';
import { leafHash, verifyInclusionRfc9162 } from '../../src/core/merkle.js';
import { runCli } from '../helpers/server-process.js';
import { makeTestCenter, type TestCenter } from '../helpers/test-center.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/**
 * A BagIt validator written from RFC 8493 alone (it shares no code with the exporter):
 * §2.1.1 bagit.txt, §2.1.2 data/, §2.1.3 payload manifests (complete, correct, paths under
 * data/, percent-encoded CR LF %), §2.2.1 tag manifests (entries exist and match, none under
 * data/), §2.2.2 bag-info.txt with a Payload-Oxum matching the payload. Returns the problems found.
 */
function validateBag(bag: string): string[] {
  const problems: string[] = [];
  const read = (name: string) => readFileSync(join(bag, name), 'utf8');
  const algorithms: Record<string, string> = { sha256: 'sha256', sha512: 'sha512', sha1: 'sha1', md5: 'md5' };
  if (!existsSync(join(bag, 'bagit.txt'))) return ['bagit.txt is missing'];
  const declaration = read('bagit.txt');
  if (!/^BagIt-Version: \d+\.\d+\r?\nTag-File-Character-Encoding: UTF-8\r?\n$/.test(declaration)) problems.push(`bagit.txt is malformed: ${JSON.stringify(declaration)}`);
  if (!existsSync(join(bag, 'data')) || !statSync(join(bag, 'data')).isDirectory()) problems.push('data/ is missing');
  const walk = (d: string): string[] =>
    readdirSync(join(bag, d), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name).split(sep).join('/')]));
  const payloadFiles = new Set(walk('data'));
  const decode = (p: string) => p.replace(/%0D/gi, '\r').replace(/%0A/gi, '\n').replace(/%25/g, '%');
  const parseManifest = (name: string) =>
    read(name)
      .split(/\r?\n/)
      .filter((l) => l !== '')
      .map((line) => {
        const m = /^([0-9a-fA-F]+)[ \t]+(.+)$/.exec(line);
        if (!m) problems.push(`${name}: malformed line ${JSON.stringify(line)}`);
        return { digest: m?.[1]?.toLowerCase() ?? '', path: decode(m?.[2] ?? '') };
      });
  const digestOf = (alg: string, path: string) => createHash(alg).update(readFileSync(join(bag, path))).digest('hex');
  const top = readdirSync(bag);
  const payloadManifests = top.filter((f) => /^manifest-[a-z0-9]+\.txt$/.test(f));
  if (payloadManifests.length === 0) problems.push('no payload manifest');
  for (const manifest of payloadManifests) {
    const alg = algorithms[/^manifest-(.+)\.txt$/.exec(manifest)![1]!];
    if (!alg) {
      problems.push(`${manifest}: unknown algorithm`);
      continue;
    }
    const listed = new Set<string>();
    for (const { digest, path } of parseManifest(manifest)) {
      if (!path.startsWith('data/') || path.split('/').includes('..')) problems.push(`${manifest}: ${path} is not under data/`);
      else if (!existsSync(join(bag, path))) problems.push(`${manifest}: ${path} is missing`);
      else if (digestOf(alg, path) !== digest) problems.push(`${manifest}: ${path} does not match`);
      if (listed.has(path)) problems.push(`${manifest}: ${path} is listed twice`);
      listed.add(path);
    }
    for (const f of payloadFiles) if (!listed.has(f)) problems.push(`${manifest}: payload file ${f} is not listed`);
  }
  for (const manifest of top.filter((f) => /^tagmanifest-[a-z0-9]+\.txt$/.test(f))) {
    const alg = algorithms[/^tagmanifest-(.+)\.txt$/.exec(manifest)![1]!]!;
    for (const { digest, path } of parseManifest(manifest)) {
      if (path.startsWith('data/')) problems.push(`${manifest}: lists payload file ${path}`);
      else if (!existsSync(join(bag, path))) problems.push(`${manifest}: ${path} is missing`);
      else if (digestOf(alg, path) !== digest) problems.push(`${manifest}: ${path} does not match`);
    }
  }
  if (existsSync(join(bag, 'bag-info.txt'))) {
    const oxum = /^Payload-Oxum: (\d+)\.(\d+)$/m.exec(read('bag-info.txt'));
    const bytes = [...payloadFiles].reduce((n, f) => n + statSync(join(bag, f)).size, 0);
    if (oxum && (Number(oxum[1]) !== bytes || Number(oxum[2]) !== payloadFiles.size)) problems.push(`Payload-Oxum ${oxum[1]}.${oxum[2]} but the payload is ${bytes}.${payloadFiles.size}`);
    for (const line of read('bag-info.txt').split(/\r?\n/).filter((l) => l !== '')) {
      if (!/^[^:\s][^:]*: .*$/.test(line) && !/^[ \t]/.test(line)) problems.push(`bag-info.txt: malformed line ${JSON.stringify(line)}`);
    }
  }
  return problems;
}

let center: TestCenter;
const out = makeTempDir();
const originals = new Map<number, Buffer>();
let hashOnlyId: number;

beforeAll(async () => {
  center = await makeTestCenter();
  for (const [size, name] of [[1_300_000, '竣工图 A-01.pdf'], [20_000, 'evil/../name%.txt']] as const) {
    const data = randomBytes(size);
    const fd = new FormData();
    fd.append('category', 'project.as-built-drawings');
    fd.append('file', new Blob([new Uint8Array(data)]), name);
    const res = await center.request('POST', '/v1/registrations', { token: center.adminToken, body: fd });
    expect(res.status).toBe(201);
    originals.set(res.body.id, data);
  }
  const hashOnly = await center.request('POST', '/v1/registrations', { token: center.adminToken, json: { sha256: createHash('sha256').update('x').digest('hex'), category: 'voluntary.individual' } });
  hashOnlyId = hashOnly.body.id;
  expect((await center.request('POST', '/v1/periods/seal', { token: center.adminToken })).status).toBe(201);
});
afterAll(async () => {
  await center.destroy();
  out.remove();
});

describe('archive-seal export --bag', () => {
  it('writes a bag valid under RFC 8493 with the originals, SM3 digests and each record with its proof', async () => {
    const bag = join(out.path, 'bag-1');
    const result = await runCli(['export', '--bag', bag, '--period', '1'], { ARCHIVE_SEAL_DATA_DIR: center.dataDir, ARCHIVE_SEAL_CHAINS: 'none' });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/3 registrations, 2 originals/);
    expect(validateBag(bag)).toEqual([]);

    for (const [id, data] of originals) {
      const dir = join(bag, 'data', `registration-${id}`, 'file');
      const [name] = readdirSync(dir);
      expect(readFileSync(join(dir, name!)).equals(data)).toBe(true);
      const sm3 = createHash('sm3').update(data).digest('hex');
      expect(readFileSync(join(bag, 'sm3-digests.txt'), 'utf8')).toContain(`${sm3}  ${relative(bag, join(dir, name!)).split(sep).join('/').replace(/%/g, '%25')}\n`);
    }
    expect(readdirSync(join(bag, 'data', `registration-${[...originals.keys()][1]}`, 'file'))).toEqual(['name%.txt']); // the upload kept the base name only
    expect(readFileSync(join(bag, 'manifest-sha256.txt'), 'utf8')).toContain('name%25.txt');
    const doc = JSON.parse(readFileSync(join(bag, 'data', `registration-${hashOnlyId}`, 'registration.json'), 'utf8'));
    const leaf = leafHash(hexToBytes(doc.registration.salt), createHash('sha256').update(canonicalize(doc.registration.record)).digest());
    expect(verifyInclusionRfc9162(leaf, doc.registration.proof, hexToBytes(doc.period.root))).toBe(true);
    expect(readFileSync(join(bag, 'bag-info.txt'), 'utf8')).toMatch(/^Archive-Seal-SM3-Digests: sm3-digests\.txt is not a BagIt manifest/m);
  });

  it('is caught by the validator when a payload byte changes, and refuses a non-empty directory or an unknown id', async () => {
    const bag = join(out.path, 'bag-2');
    const [id] = originals.keys();
    expect((await runCli(['export', '--bag', bag, '--registration', String(id)], { ARCHIVE_SEAL_DATA_DIR: center.dataDir, ARCHIVE_SEAL_CHAINS: 'none' })).code).toBe(0);
    expect(validateBag(bag)).toEqual([]);
    const [name] = readdirSync(join(bag, 'data', `registration-${id}`, 'file'));
    const path = join(bag, 'data', `registration-${id}`, 'file', name!);
    const bytes = readFileSync(path);
    bytes[7]! ^= 1;
    writeFileSync(path, bytes);
    expect(validateBag(bag)).toEqual(expect.arrayContaining([expect.stringMatching(/manifest-sha256\.txt: .* does not match/), expect.stringMatching(/manifest-sha512\.txt: .* does not match/)]));

    const again = await runCli(['export', '--bag', bag, '--registration', String(id)], { ARCHIVE_SEAL_DATA_DIR: center.dataDir, ARCHIVE_SEAL_CHAINS: 'none' });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/not empty/);
    // An id the center does not have is a failure (1), not bad usage (2).
    const unknown = await runCli(['export', '--bag', join(out.path, 'bag-3'), '--registration', '99999'], { ARCHIVE_SEAL_DATA_DIR: center.dataDir, ARCHIVE_SEAL_CHAINS: 'none' });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/there is no registration 99999/);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    const unknownPeriod = await runCli(['export', '--bag', join(out.path, 'bag-3'), '--period', '999'], { ARCHIVE_SEAL_DATA_DIR: center.dataDir, ARCHIVE_SEAL_CHAINS: 'none' });
    expect(unknownPeriod.code).toBe(1);
    expect(unknownPeriod.stderr).toMatch(/there is no period 999/);
    expect(existsSync(join(out.path, 'bag-3'))).toBe(false);
    expect((await runCli(['export', '--bag', join(out.path, 'bag-4')], { ARCHIVE_SEAL_DATA_DIR: center.dataDir })).code).toBe(2);
  });
});

describe('archive-seal export --bag, when an original is missing from the vault', () => {
  it('fails leaving no half-written bag, so that the same command succeeds once the original is back', async () => {
    const [id, data] = [...originals.entries()][1]!;
    const path = center.backup.vault.pathOf(createHash('sha256').update(data).digest('hex'));
    const bag = join(out.path, 'bag-missing');
    const env = { ARCHIVE_SEAL_DATA_DIR: center.dataDir, ARCHIVE_SEAL_CHAINS: 'none' };
    renameSync(path, `${path}.away`);
    try {
      const failed = await runCli(['export', '--bag', bag, '--registration', String(id)], env);
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(/missing from the vault/);
      expect(existsSync(bag)).toBe(false);
      expect(readdirSync(out.path).filter((name) => name.includes('bag-missing'))).toEqual([]); // no temporary sibling either
      mkdirSync(bag); // an empty directory given is fine too
      expect((await runCli(['export', '--bag', bag, '--registration', String(id)], env)).code).toBe(1);
      expect(readdirSync(bag)).toEqual([]);
    } finally {
      renameSync(`${path}.away`, path);
    }
    const again = await runCli(['export', '--bag', bag, '--registration', String(id)], env);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(validateBag(bag)).toEqual([]);
    expect(readdirSync(out.path).filter((name) => name.includes('bag-missing'))).toEqual(['bag-missing']);
  });
});

describe('archive-seal export --bag, once the period is anchored', () => {
  it('puts the registration\'s authenticity certificate into the bag', async () => {
    const at = new Date().toISOString();
    center.store.run(
      center.store.db.insertInto('anchor').values({
        period_id: 1,
        chain: 'test-chain',
        chain_id: 31337,
        contract: '0x' + '11'.repeat(20),
        status: 'confirmed',
        tx_hash: '0x' + '22'.repeat(32),
        nonce: 0,
        block_number: 7,
        block_hash: '0x' + '33'.repeat(32),
        block_time: at,
        confirmations: 1,
        attempts: 1,
        last_error: null,
        created_at: at,
        updated_at: at,
      }),
    );
    const bag = join(out.path, 'bag-anchored');
    const result = await runCli(['export', '--bag', bag, '--registration', String(hashOnlyId)], { ARCHIVE_SEAL_DATA_DIR: center.dataDir, ARCHIVE_SEAL_CHAINS: 'none' });
    expect(result.code).toBe(0);
    expect(validateBag(bag)).toEqual([]);
    const certificate = JSON.parse(readFileSync(join(bag, 'data', `registration-${hashOnlyId}`, 'certificate.json'), 'utf8'));
    expect(certificate.format).toBe('archive-seal/certificate@1');
    expect(certificate.content.record.registrationId).toBe(hashOnlyId);
    expect(certificate.content.anchors).toEqual([expect.objectContaining({ chain: 'test-chain', blockNumber: 7 })]);
  });
});
