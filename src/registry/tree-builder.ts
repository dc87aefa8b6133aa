import { hash } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';

export const HASH_BYTES = 32;
const NODE_PREFIX = 0x01; // RFC 6962 §2.1: interior nodes are SHA-256(0x01 ‖ left ‖ right).
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
  if (leaves.length === 0 || leaves.length % HASH_BYTES !== 0) {
    throw new RangeError('leaves must be a non-empty multiple of 32 bytes');
  }
  const levels = [leaves];
  const scratch = Buffer.alloc(1 + 2 * HASH_BYTES);
  scratch[0] = NODE_PREFIX;
  let current = leaves;
  while (current.length > HASH_BYTES) {
    const count = current.length / HASH_BYTES;
    const pairs = Math.floor(count / 2);
    const next = Buffer.allocUnsafe(Math.ceil(count / 2) * HASH_BYTES);
    for (let i = 0; i < pairs; i++) {
      // left ‖ right are adjacent in the flat level: one 64-byte copy.
      current.copy(scratch, 1, 2 * i * HASH_BYTES, (2 * i + 2) * HASH_BYTES);
      hash('sha256', scratch, 'buffer').copy(next, i * HASH_BYTES);
      if ((i + 1) % SLICE === 0) await nextTurn();
    }
    if (count % 2 === 1) current.copy(next, pairs * HASH_BYTES, (count - 1) * HASH_BYTES);
    levels.push(next);
    current = next;
  }
  return levels;
}
