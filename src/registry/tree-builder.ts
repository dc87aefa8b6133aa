import { hash } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { HASH_BYTES, inclusionPathPositions, LEAF_PREFIX, NODE_PREFIX, SALT_BYTES, type InclusionProof } from '../core/merkle.js';

export { HASH_BYTES } from '../core/merkle.js';
const SLICE = 16_384; // nodes hashed between turns of the event loop

/**
 * Builds every level of the Merkle tree over `leaves` (n × 32 bytes, flat), leaves first and
 * the one-hash root level last. An odd last node is carried up unchanged (the same tree as
 * `src/core/merkle.ts` `buildLayers`, i.e. RFC 6962's Merkle Tree Hash).
 *
 * One flat Buffer per level and `crypto.hash` into it: for 1M leaves this is ~64 MB in all,
 * where an array of Buffers costs several times that. The event loop gets a turn every
 * few thousand hashes so registrations keep flowing while a large period seals.
 */
export async function buildTreeLevels(leaves: Buffer): Promise<Buffer[]> {
  checkLeaves(leaves);
  const levels = [leaves];
  while (levels[levels.length - 1]!.length > HASH_BYTES) {
    const current = levels[levels.length - 1]!;
    const next = Buffer.allocUnsafe(Math.ceil(current.length / HASH_BYTES / 2) * HASH_BYTES);
    for (let from = 0; from < current.length / HASH_BYTES / 2; from += SLICE) {
      hashPairs(current, next, from, from + SLICE);
      await nextTurn();
    }
    levels.push(next);
  }
  return levels;
}

/** The root over `leaves` (n × 32 bytes, flat), synchronously: for small trees (a receipt's request). */
export function merkleRoot(leaves: Buffer): Buffer {
  const levels = treeLevels(leaves);
  return levels[levels.length - 1]!;
}

/** Every level over `leaves` (n × 32 bytes, flat), as {@link buildTreeLevels}, synchronously: for small trees. */
export function treeLevels(leaves: Buffer): Buffer[] {
  checkLeaves(leaves);
  const levels = [leaves];
  for (let current = leaves; current.length > HASH_BYTES; ) {
    const next = Buffer.allocUnsafe(Math.ceil(current.length / HASH_BYTES / 2) * HASH_BYTES);
    hashPairs(current, next, 0, Number.POSITIVE_INFINITY);
    levels.push((current = next));
  }
  return levels;
}

/** The inclusion proof of `leafIndex` read out of flat levels (as `proofFromLayers` in src/core/merkle.ts). */
export function proofFromLevels(levels: readonly Buffer[], leafIndex: number): InclusionProof {
  const treeSize = levels[0]!.length / HASH_BYTES;
  const path = inclusionPathPositions(treeSize, leafIndex).map(({ level, index, side }) => ({
    side,
    hash: levels[level]!.toString('hex', index * HASH_BYTES, (index + 1) * HASH_BYTES),
  }));
  return { leafIndex, treeSize, path };
}

/** Fills `next` with the parents of pairs `from`..`to` of `current` (the odd last node carried up). */
function hashPairs(current: Buffer, next: Buffer, from: number, to: number): void {
  const count = current.length / HASH_BYTES;
  const pairs = Math.floor(count / 2);
  const scratch = Buffer.allocUnsafe(1 + 2 * HASH_BYTES);
  scratch[0] = NODE_PREFIX;
  for (let i = from; i < Math.min(to, pairs); i++) {
    // left ‖ right are adjacent in the flat level: one 64-byte copy.
    current.copy(scratch, 1, 2 * i * HASH_BYTES, (2 * i + 2) * HASH_BYTES);
    // As a 'binary' (latin1) string, one char per byte: half the cost of the one-shot hash's Buffer output.
    next.write(hash('sha256', scratch, 'binary'), i * HASH_BYTES, 'binary');
  }
  if (count % 2 === 1 && to >= pairs) current.copy(next, pairs * HASH_BYTES, (count - 1) * HASH_BYTES);
}

function checkLeaves(leaves: Buffer): void {
  if (leaves.length === 0 || leaves.length % HASH_BYTES !== 0) {
    throw new RangeError('leaves must be a non-empty multiple of 32 bytes');
  }
}

const leafInput = Buffer.alloc(1 + SALT_BYTES + HASH_BYTES);
leafInput[0] = LEAF_PREFIX;

/**
 * A registration's leaf, SHA-256(0x00 ‖ salt ‖ recordDigest) (RFC 6962 §2.1, as `leafHash` in
 * src/core/merkle.ts), with node:crypto into one reused buffer: the writer, the auditor and
 * recovery make it for every registration.
 */
export function saltedLeaf(salt: Uint8Array, recordDigest: Uint8Array): Buffer {
  if (salt.length !== SALT_BYTES || recordDigest.length !== HASH_BYTES) throw new RangeError('a leaf takes a 32-byte salt and a 32-byte record digest');
  leafInput.set(salt, 1);
  leafInput.set(recordDigest, 1 + SALT_BYTES);
  // 'binary' string output: half the cost of the one-shot hash's Buffer output.
  return Buffer.from(hash('sha256', leafInput, 'binary'), 'binary');
}
