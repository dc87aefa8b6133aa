import { createHash, randomBytes, randomInt } from 'node:crypto';
import fc from 'fast-check';
import { MerkleTree } from 'merkletreejs';
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/core/hex.js';
import { buildLayers, leafHash, proofFromLayers, rootFromProof, type ProofStep } from '../../src/core/merkle.js';
import { buildTreeLevels, merkleRoot, proofFromLevels, saltedLeaf, treeLevels } from '../../src/registry/tree-builder.js';

// merkletreejs is the reference: given node = SHA-256(0x01 ‖ left ‖ right) over pre-hashed
// leaves and no odd-node duplication, it carries an odd last node up as we do.
const nodeFn = (data: Buffer) => createHash('sha256').update(Buffer.concat([Buffer.from([1]), data])).digest();

function reference(leaves: Buffer[]) {
  return new MerkleTree(leaves, nodeFn, { hashLeaves: false, sortPairs: false, duplicateOdd: false });
}

/** RFC 6962 §2.1 Merkle Tree Hash, by its recursive definition, over pre-hashed leaves. */
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeFn(Buffer.concat([mth(leaves.slice(0, k)), mth(leaves.slice(k))]));
}

const leavesOf = (n: number) => Array.from({ length: n }, () => randomBytes(32));

/**
 * `n` leaves (n × 32 bytes, flat) drawn from `seed`: leaf i = SHA-256(seed ‖ i). Random-looking
 * but reproducible, so a failure reported with its seed can be replayed.
 */
function seededLeaves(seed: number, n: number): Buffer {
  const flat = Buffer.allocUnsafe(32 * n);
  const input = Buffer.alloc(8);
  input.writeUInt32BE(seed >>> 0, 0);
  for (let i = 0; i < n; i++) {
    input.writeUInt32BE(i, 4);
    createHash('sha256').update(input).digest().copy(flat, 32 * i);
  }
  return flat;
}

const leafViews = (flat: Buffer) => Array.from({ length: flat.length / 32 }, (_, i) => flat.subarray(32 * i, 32 * i + 32));

/** A proof path as one string, side and hash of every step, so two proofs compare byte for byte in one `===`. */
const pathKey = (path: readonly ProofStep[]) => path.map((step) => `${step.side}:${step.hash}`).join(',');

/**
 * Compares merkletreejs's root and the proof of every leaf index with those of the server's
 * flat-buffer builder (`buildTreeLevels`, which seals periods; its synchronous twin `treeLevels`,
 * which signs receipts, must give the same levels) and, unless `core` is false, the portable
 * core builder (`buildLayers`). Each of merkletreejs's proofs must also fold, by `rootFromProof`,
 * to the root, unless `fold` is false. Returns a description of the first mismatches found;
 * comparing in plain JS and asserting once keeps 100,000 proofs cheap.
 */
async function differencesFromReference(
  flat: Buffer,
  { core = true, fold = true }: { core?: boolean; fold?: boolean } = {},
): Promise<string[]> {
  const n = flat.length / 32;
  const leaves = leafViews(flat);
  const ref = reference(leaves);
  const root = ref.getRoot().toString('hex');
  const levels = await buildTreeLevels(flat);
  const differences: string[] = [];
  const note = (what: string) => {
    if (differences.length < 5) differences.push(`n=${n}: ${what}`);
  };

  const syncLevels = treeLevels(flat);
  if (syncLevels.length !== levels.length || syncLevels.some((level, l) => !level.equals(levels[l]!))) {
    note('treeLevels differs from buildTreeLevels');
  }
  if (levels[levels.length - 1]!.toString('hex') !== root) note('flat-buffer root differs from merkletreejs');
  const layers = core ? buildLayers(leaves) : undefined;
  if (layers && bytesToHex(layers[layers.length - 1]![0]!) !== root) note('core root differs from merkletreejs');

  for (let i = 0; i < n; i++) {
    // merkletreejs's own proof: with the index given, getProof reads the siblings out of its layers.
    const refPath: ProofStep[] = ref.getProof(leaves[i]!, i).map((p) => ({ side: p.position, hash: p.data.toString('hex') }));
    const expected = pathKey(refPath);
    if (pathKey(proofFromLevels(levels, i).path) !== expected) note(`flat-buffer proof of leaf ${i} differs from merkletreejs`);
    if (layers && pathKey(proofFromLayers(layers, i).path) !== expected) note(`core proof of leaf ${i} differs from merkletreejs`);
    if (fold && bytesToHex(rootFromProof(leaves[i]!, refPath)) !== root) note(`proof of leaf ${i} does not fold to the root`);
  }
  return differences;
}

describe('our tree against the references', () => {
  it('equals RFC 6962 Merkle Tree Hash for every size 1..69', () => {
    for (let n = 1; n <= 69; n++) {
      const leaves = leavesOf(n);
      const layers = buildLayers(leaves);
      expect(bytesToHex(layers[layers.length - 1]![0]!)).toBe(mth(leaves).toString('hex'));
    }
  });

  it('gives merkletreejs\'s root and every proof, byte for byte, from both builders, for every size 1..130', async () => {
    for (let n = 1; n <= 130; n++) {
      const seed = randomInt(2 ** 31);
      expect(await differencesFromReference(seededLeaves(seed, n)), `seed ${seed}`).toEqual([]);
    }
  });

  it('gives merkletreejs\'s root and every proof, byte for byte, from both builders, at powers of two up to 2,049', async () => {
    for (const n of [255, 256, 257, 511, 512, 513, 1023, 1024, 1025, 2047, 2048, 2049]) {
      const seed = randomInt(2 ** 31);
      expect(await differencesFromReference(seededLeaves(seed, n)), `seed ${seed}`).toEqual([]);
    }
  });

  it('gives merkletreejs\'s root and every proof, byte for byte, from both builders, for random sizes up to 3,000 (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 131, max: 3000 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), async (n, seed) => {
        expect(await differencesFromReference(seededLeaves(seed, n))).toEqual([]);
      }),
      { numRuns: 40 },
    );
  });

  it('gives merkletreejs\'s root and all 100,000 proofs, byte for byte, from both builders', async () => {
    const seed = randomInt(2 ** 31);
    expect(await differencesFromReference(seededLeaves(seed, 100_000)), `seed ${seed}`).toEqual([]);
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
