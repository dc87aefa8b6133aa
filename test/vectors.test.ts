import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalize } from '../src/core/canonical-json.js';
import { sha256Hex } from '../src/core/digests.js';
import { hexToBytes } from '../src/core/hex.js';
import { leafHash, rootFromProof, verifyInclusionRfc9162, type InclusionProof } from '../src/core/merkle.js';
import { bytesToHex } from '../src/core/hex.js';
import { verifyCertificate } from '../src/core/verify-certificate.js';
import { createHash } from 'node:crypto';

// Every file under test/vectors is checked here, by its "format"; a file nobody checks fails.
const DIR = join(import.meta.dirname, 'vectors');

interface MerkleVectors {
  format: 'archive-seal/merkle-vectors@1';
  trees: {
    size: number;
    entries: { record?: unknown; canonical?: string; recordDigest: string; salt: string; leaf: string }[];
    root: string;
    proofs: InclusionProof[];
  }[];
}

const checkers: Record<string, (vectors: any) => void | Promise<void>> = {
  // A certificate issued by an earlier version keeps verifying (anchors need a live chain: skipped).
  'archive-seal/certificate-vector@1': async (vector: { file: string; certificate: unknown; trustRoot: string }) => {
    const file = Buffer.from(vector.file, 'base64');
    const report = await verifyCertificate({
      certificate: vector.certificate,
      file: { sha256: createHash('sha256').update(file).digest('hex'), sm3: createHash('sm3').update(file).digest('hex') },
      trustRoots: [readFileSync(join(DIR, '..', '..', vector.trustRoot), 'utf8')],
      // The vectors are signed with the development PKI: accepted here, explicitly.
      allowDevelopment: true,
    });
    expect(report.steps.filter((s) => s.status !== 'ok').map((s) => s.step)).toEqual(['anchor']);
    // Without a live chain the anchor is not checked, so no more than CANNOT BE DETERMINED.
    expect(report.verdict).toBe('CANNOT_BE_DETERMINED');
  },
  'archive-seal/merkle-vectors@1': (vectors: MerkleVectors) => {
    for (const tree of vectors.trees) {
      expect(tree.entries).toHaveLength(tree.size);
      const root = hexToBytes(tree.root);
      tree.entries.forEach((entry, i) => {
        if (entry.record !== undefined) {
          expect(canonicalize(entry.record)).toBe(entry.canonical);
          expect(sha256Hex(new TextEncoder().encode(entry.canonical))).toBe(entry.recordDigest);
        }
        const leaf = leafHash(hexToBytes(entry.salt), hexToBytes(entry.recordDigest));
        expect(bytesToHex(leaf)).toBe(entry.leaf);
        const proof = tree.proofs[i]!;
        expect(proof).toMatchObject({ leafIndex: i, treeSize: tree.size });
        expect(bytesToHex(rootFromProof(leaf, proof.path))).toBe(tree.root);
        expect(verifyInclusionRfc9162(leaf, proof, root)).toBe(true);
      });
    }
  },
};

describe('test vectors under test/vectors', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));
  it('has vector files', () => expect(files.length).toBeGreaterThan(0));
  it.each(files)('%s verifies', async (file) => {
    const vectors = JSON.parse(readFileSync(join(DIR, file), 'utf8'));
    const check = checkers[vectors.format];
    expect(check, `no checker for format ${vectors.format}`).toBeDefined();
    await check!(vectors);
  });
});
