/**
 * Writes the versioned Merkle test vectors under test/vectors/. Deterministic: salts and records
 * come from SHA-256 of a fixed seed, so re-running gives the same bytes. A vector file, once
 * committed, is never rewritten: a new format version gets a new file.
 *
 *   npx tsx scripts/make-test-vectors.ts [--force]
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalize } from '../src/core/canonical-json.js';
import { sha256 } from '../src/core/digests.js';
import { bytesToHex } from '../src/core/hex.js';
import { buildLayers, leafHash, proofFromLayers } from '../src/core/merkle.js';
import { RECORD_FORMAT, recordDigest, type RegistrationRecord } from '../src/core/record.js';

const SEED = 'archive-seal merkle test vectors v1';
const OUT = join(import.meta.dirname, '..', 'test', 'vectors');

function derive(label: string, i: number): Uint8Array {
  return sha256(new TextEncoder().encode(`${SEED}/${label}/${i}`));
}

function sampleRecord(i: number): RegistrationRecord {
  const content = bytesToHex(derive('content', i));
  return {
    format: RECORD_FORMAT,
    center: 'vector-center',
    registrationId: i + 1,
    registeredAt: new Date(Date.UTC(2026, 10, 25, 0, 0, i)).toISOString(),
    registrant: i % 3 === 2 ? { pseudonym: `anon:${content.slice(0, 32)}` } : { id: `account:${(i % 3) + 1}`, name: i % 3 === 0 ? '衢州市民政局' : 'Example Works Co.' },
    category: ['livelihood.marriage', 'project.as-built-drawings', 'voluntary.individual'][i % 3]!,
    title: `样例记录 ${i} / sample record ${i}`,
    fileName: `record-${i}.pdf`,
    size: 1000 + i,
    mediaType: 'application/pdf',
    digests: { sha256: content, sm3: bytesToHex(derive('sm3', i)) },
    deposit: i % 2 === 0 ? 'file' : 'hash-only',
    ...(i % 4 === 0 && { metadata: { fondsCode: 'J001', archivalCode: `J001-2026-Y-${String(i).padStart(4, '0')}`, retentionPeriod: '永久' } }),
  };
}

function tree(size: number, withRecords: boolean) {
  const entries = Array.from({ length: size }, (_, i) => {
    const salt = derive('salt', i);
    const record = withRecords ? sampleRecord(i) : undefined;
    const digest = record ? recordDigest(record) : derive('record-digest', i);
    return {
      ...(record && { record, canonical: canonicalize(record) }),
      recordDigest: bytesToHex(digest),
      salt: bytesToHex(salt),
      leaf: bytesToHex(leafHash(salt, digest)),
    };
  });
  const layers = buildLayers(entries.map((e) => Uint8Array.from(Buffer.from(e.leaf, 'hex'))));
  return {
    size,
    entries,
    root: bytesToHex(layers[layers.length - 1]![0]!),
    proofs: entries.map((_, i) => proofFromLayers(layers, i)),
  };
}

const files = {
  'merkle-small-v1.json': {
    format: 'archive-seal/merkle-vectors@1',
    source: `scripts/make-test-vectors.ts, seed "${SEED}"; roots agree with merkletreejs and RFC 6962 MTH (test/core/merkle-reference.test.ts)`,
    leaf: 'SHA-256(0x00 || salt || SHA-256(JCS(record)))  (RFC 6962 §2.1, RFC 8785)',
    node: 'SHA-256(0x01 || left || right); an odd last node is carried up unchanged',
    trees: Array.from({ length: 17 }, (_, i) => tree(i + 1, true)),
  },
  'merkle-1000-v1.json': {
    format: 'archive-seal/merkle-vectors@1',
    source: `scripts/make-test-vectors.ts, seed "${SEED}"`,
    leaf: 'SHA-256(0x00 || salt || recordDigest)',
    node: 'SHA-256(0x01 || left || right); an odd last node is carried up unchanged',
    trees: [tree(1000, false)],
  },
};

const force = process.argv.includes('--force');
for (const [name, content] of Object.entries(files)) {
  const path = join(OUT, name);
  if (existsSync(path) && !force) {
    console.log(`${name}: exists, left as it is (vectors are frozen; --force to rewrite)`);
    continue;
  }
  writeFileSync(path, JSON.stringify(content, null, name.includes('small') ? 1 : undefined) + '\n');
  console.log(`${name}: written`);
}
