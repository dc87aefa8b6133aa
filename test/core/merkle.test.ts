import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/core/hex.js';
import {
  buildLayers,
  leafHash,
  pathSidesMatchPosition,
  proofFromLayers,
  rootFromProof,
  verifyInclusionRfc9162,
  type InclusionProof,
} from '../../src/core/merkle.js';
import { sha256 } from '../../src/core/digests.js';

const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });

/** A random tree: salts and record digests, its leaves, layers and root. */
const treeArb = (maxSize: number) =>
  fc.array(fc.tuple(bytes32, bytes32), { minLength: 1, maxLength: maxSize }).map((entries) => {
    const leaves = entries.map(([salt, digest]) => leafHash(salt, digest));
    const layers = buildLayers(leaves);
    return { entries, leaves, layers, root: layers[layers.length - 1]![0]! };
  });

function flipBit(data: Uint8Array, bit: number): Uint8Array {
  const copy = Uint8Array.from(data);
  copy[Math.floor(bit / 8) % copy.length]! ^= 1 << bit % 8;
  return copy;
}

function proves(leaf: Uint8Array, proof: InclusionProof, root: Uint8Array): boolean {
  return bytesToHex(rootFromProof(leaf, proof.path)) === bytesToHex(root) && verifyInclusionRfc9162(leaf, proof, root);
}

describe('Merkle tree with salted leaves', () => {
  it('proves every leaf of every tree size from 1 to 130, both by sides and by RFC 9162', () => {
    for (let size = 1; size <= 130; size++) {
      const leaves = Array.from({ length: size }, (_, i) => sha256(new Uint8Array([i, size, 7])));
      const layers = buildLayers(leaves);
      const root = layers[layers.length - 1]![0]!;
      for (let i = 0; i < size; i++) {
        const proof = proofFromLayers(layers, i);
        expect(proves(leaves[i]!, proof, root), `size ${size} leaf ${i}`).toBe(true);
        expect(pathSidesMatchPosition(proof)).toBe(true);
        expect(proof.path.length).toBeLessThanOrEqual(Math.ceil(Math.log2(size)));
      }
    }
  });

  it('proves every leaf of random trees (property)', () => {
    fc.assert(
      fc.property(treeArb(300), ({ leaves, layers, root }) => {
        leaves.forEach((leaf, i) => {
          expect(proves(leaf, proofFromLayers(layers, i), root)).toBe(true);
        });
      }),
      { numRuns: 60 },
    );
  });

  it('rejects a proof when any bit of the salt, record digest, leaf, path or root flips (property)', () => {
    fc.assert(
      fc.property(treeArb(64), fc.nat(), fc.nat(), ({ entries, leaves, layers, root }, pick, bit) => {
        const i = pick % leaves.length;
        const proof = proofFromLayers(layers, i);
        const [salt, digest] = entries[i]!;
        expect(proves(leafHash(flipBit(salt, bit), digest), proof, root)).toBe(false);
        expect(proves(leafHash(salt, flipBit(digest, bit)), proof, root)).toBe(false);
        expect(proves(flipBit(leaves[i]!, bit), proof, root)).toBe(false);
        expect(proves(leaves[i]!, proof, flipBit(root, bit))).toBe(false);
        if (proof.path.length > 0) {
          const step = pick % proof.path.length;
          const path = proof.path.map((s, k) =>
            k === step ? { ...s, hash: bytesToHex(flipBit(Buffer.from(s.hash, 'hex'), bit)) } : s,
          );
          expect(proves(leaves[i]!, { ...proof, path }, root)).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('rejects a proof moved to another index or with a swapped side', () => {
    fc.assert(
      // Distinct leaves: with 32 random salt bytes per registration two equal leaves do not occur.
      fc.property(treeArb(64).filter((t) => t.leaves.length > 1 && new Set(t.leaves.map(bytesToHex)).size === t.leaves.length), fc.nat(), ({ leaves, layers, root }, pick) => {
        const i = pick % leaves.length;
        const proof = proofFromLayers(layers, i);
        const other = (i + 1) % leaves.length;
        expect(verifyInclusionRfc9162(leaves[i]!, { ...proof, leafIndex: other }, root)).toBe(false);
        // (The tree size is bound by the period, not by the path: a path for 3 leaves also folds
        // for 4. The certificate verifier checks treeSize against the period's leaf count.)
        if (proof.path.length > 0) {
          const swapped = proof.path.map((s, k) => (k === 0 ? { ...s, side: s.side === 'left' ? 'right' as const : 'left' as const } : s));
          expect(bytesToHex(rootFromProof(leaves[i]!, swapped))).not.toBe(bytesToHex(root));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('never throws on malformed proofs, it says false', () => {
    const leaf = sha256(new Uint8Array([1]));
    expect(verifyInclusionRfc9162(leaf, { leafIndex: 0, treeSize: 0, path: [] }, leaf)).toBe(false);
    expect(verifyInclusionRfc9162(leaf, { leafIndex: 2, treeSize: 2, path: [] }, leaf)).toBe(false);
    expect(verifyInclusionRfc9162(leaf, { leafIndex: 0, treeSize: 2, path: [{ side: 'right', hash: 'zz' }] }, leaf)).toBe(false);
    expect(verifyInclusionRfc9162(leaf, { leafIndex: -1, treeSize: 2, path: [] }, leaf)).toBe(false);
    expect(pathSidesMatchPosition({ leafIndex: 5, treeSize: 2, path: [] })).toBe(false);
  });

  it('needs 32-byte salts and digests', () => {
    expect(() => leafHash(new Uint8Array(31), new Uint8Array(32))).toThrow(RangeError);
    expect(() => leafHash(new Uint8Array(32), new Uint8Array(33))).toThrow(RangeError);
  });
});
