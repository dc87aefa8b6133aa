import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { MerkleTree } from 'merkletreejs';
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/core/hex.js';
import { buildLayers, leafHash, proofFromLayers } from '../../src/core/merkle.js';
import { buildTreeLevels, merkleRoot, proofFromLevels, saltedLeaf, treeLevels } from '../../src/registry/tree-builder.js';

// merkletreejs is the reference: given node = SHA-256(0x01 ‖ left ‖ right) over pre-hashed
// leaves and no odd-node duplication, it carries an odd last node up as we do.
const nodeFn = (data: Buffer) => createHash('sha256').update(Buffer.concat([Buffer.from([1]), data])).digest();

function reference(leaves: Buffer[]) {
  return new MerkleTree(leaves, nodeFn, { hashLeaves: false, sortPairs: false, duplicateOdd: false });
}

function referenceProof(tree: MerkleTree, leaf: Buffer, index: number) {
  return tree.getProof(leaf, index).map((p) => ({ side: p.position, hash: p.data.toString('hex') }));
}

/** RFC 6962 §2.1 Merkle Tree Hash, by its recursive definition, over pre-hashed leaves. */
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeFn(Buffer.concat([mth(leaves.slice(0, k)), mth(leaves.slice(k))]));
}

const leavesOf = (n: number) => Array.from({ length: n }, () => randomBytes(32));

describe('our tree against the references', () => {
  it('equals RFC 6962 Merkle Tree Hash for every size 1..69', () => {
    for (let n = 1; n <= 69; n++) {
      const leaves = leavesOf(n);
      const layers = buildLayers(leaves);
      expect(bytesToHex(layers[layers.length - 1]![0]!)).toBe(mth(leaves).toString('hex'));
    }
  });

  it('gives merkletreejs roots and every proof, byte for byte, for random sizes up to 3,000 (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), (n) => {
        const leaves = leavesOf(n);
        const layers = buildLayers(leaves);
        const ref = reference(leaves);
        expect(bytesToHex(layers[layers.length - 1]![0]!)).toBe(ref.getRoot().toString('hex'));
        const step = Math.max(1, Math.floor(n / 50));
        for (let i = 0; i < n; i += step) {
          expect(proofFromLayers(layers, i).path).toEqual(referenceProof(ref, leaves[i]!, i));
        }
        expect(proofFromLayers(layers, n - 1).path).toEqual(referenceProof(ref, leaves[n - 1]!, n - 1));
      }),
      { numRuns: 25 },
    );
  });

  it('agrees with merkletreejs for a tree of 100,000 leaves (root and sampled proofs)', async () => {
    const n = 100_000;
    const flat = randomBytes(32 * n);
    const leaves = Array.from({ length: n }, (_, i) => flat.subarray(32 * i, 32 * i + 32));
    const ref = reference(leaves);
    const levels = await buildTreeLevels(flat);
    expect(levels[levels.length - 1]!.toString('hex')).toBe(ref.getRoot().toString('hex'));
    const layers = levels.map((level) => Array.from({ length: level.length / 32 }, (_, i) => level.subarray(32 * i, 32 * i + 32)));
    for (const i of [0, 1, 2, 4_095, 50_000, 65_536, 99_998, 99_999]) {
      expect(proofFromLayers(layers, i).path).toEqual(referenceProof(ref, leaves[i]!, i));
    }
  });

  it('builds the same levels over flat buffers (server) as the portable core builder', async () => {
    for (const n of [1, 2, 3, 5, 8, 13, 16_385, 40_000]) {
      const flat = randomBytes(32 * n);
      const levels = await buildTreeLevels(flat);
      const layers = buildLayers(Array.from({ length: n }, (_, i) => flat.subarray(32 * i, 32 * i + 32)));
      expect(levels.map((l) => l.toString('hex'))).toEqual(layers.map((layer) => layer.map((h) => bytesToHex(h)).join('')));
      expect(merkleRoot(flat).toString('hex')).toBe(bytesToHex(layers[layers.length - 1]![0]!));
    }
  });

  it('gives, synchronously, the same levels and every proof as the core builder for sizes 1..70 (receipts)', () => {
    for (let n = 1; n <= 70; n++) {
      const flat = randomBytes(32 * n);
      const levels = treeLevels(flat);
      const layers = buildLayers(Array.from({ length: n }, (_, i) => flat.subarray(32 * i, 32 * i + 32)));
      expect(levels.map((l) => l.toString('hex'))).toEqual(layers.map((layer) => layer.map((h) => bytesToHex(h)).join('')));
      for (let i = 0; i < n; i++) expect(proofFromLevels(levels, i)).toEqual(proofFromLayers(layers, i));
    }
  });

  it('makes the server\'s salted leaf (node:crypto, one reused buffer) as the core leafHash does', () => {
    for (let i = 0; i < 50; i++) {
      const salt = randomBytes(32);
      const digest = randomBytes(32);
      expect(saltedLeaf(salt, digest).toString('hex')).toBe(bytesToHex(leafHash(salt, digest)));
    }
    expect(() => saltedLeaf(randomBytes(31), randomBytes(32))).toThrow(RangeError);
  });
});
