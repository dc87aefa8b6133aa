import { inclusionPathPositions, layerSizes, type InclusionProof } from '../core/merkle.js';
import { CHUNK_HASHES, readTreeChunk, readTreeHash, treeChunkId } from '../store/tree-repository.js';
import type { Store } from '../store/store.js';
import { invariant } from './registry-error.js';

const HASH_BYTES = 32;
/** Levels of at most this many hashes are kept in memory: every proof of the period passes through them. */
const CACHED_LEVEL_HASHES = 4096;
const MAX_CACHED_CHUNKS = 4096; // 8 MiB

/**
 * Derives inclusion proofs on request from a sealed period's stored levels, O(log n): the wide
 * lower levels one 32-byte read each (one B-tree descent), the narrow upper levels — the same for
 * every proof — from memory. Sealed trees never change, so nothing cached goes stale.
 */
export class ProofReader {
  private readonly cache = new Map<number, Buffer>();

  constructor(private readonly store: Store) {}

  /**
   * The proof of leaf `leafIndex` in sealed period `periodId` of `treeSize` leaves. `pageChunks`:
   * chunks of the wide levels read for the proofs of one page of a list, whose leaves are
   * neighbours and share them (a page of 100 took 1,100 reads of 32 bytes, now about 25 chunks).
   */
  proofOf(periodId: number, treeSize: number, leafIndex: number, pageChunks?: Map<number, Buffer | undefined>): InclusionProof {
    const sizes = layerSizes(treeSize);
    const path = inclusionPathPositions(treeSize, leafIndex).map(({ level, index, side }) => {
      const hash =
        sizes[level]! <= CACHED_LEVEL_HASHES
          ? this.cachedHash(periodId, level, index)
          : pageChunks
            ? hashOfChunk(pageChunks, this.store, periodId, level, index)
            : readTreeHash(this.store, periodId, level, index);
      invariant(hash?.length === HASH_BYTES, `tree of period ${periodId} has no node ${level}/${index}`);
      return { side, hash: hash.toString('hex') };
    });
    return { leafIndex, treeSize, path };
  }

  private cachedHash(periodId: number, level: number, index: number): Buffer | undefined {
    const chunk = Math.floor(index / CHUNK_HASHES);
    const key = treeChunkId(periodId, level, chunk);
    let hashes = this.cache.get(key);
    if (!hashes) {
      hashes = readTreeChunk(this.store, periodId, level, chunk);
      if (!hashes) return undefined;
      if (this.cache.size >= MAX_CACHED_CHUNKS) this.cache.clear();
      this.cache.set(key, hashes);
    }
    const offset = (index % CHUNK_HASHES) * HASH_BYTES;
    return hashes.subarray(offset, offset + HASH_BYTES);
  }
}

function hashOfChunk(chunks: Map<number, Buffer | undefined>, store: Store, periodId: number, level: number, index: number): Buffer | undefined {
  const chunk = Math.floor(index / CHUNK_HASHES);
  const key = treeChunkId(periodId, level, chunk);
  if (!chunks.has(key)) {
    if (chunks.size >= MAX_CACHED_CHUNKS) chunks.clear(); // a page of rows far apart: at most 8 MiB
    chunks.set(key, readTreeChunk(store, periodId, level, chunk));
  }
  const offset = (index % CHUNK_HASHES) * HASH_BYTES;
  return chunks.get(key)?.subarray(offset, offset + HASH_BYTES);
}
