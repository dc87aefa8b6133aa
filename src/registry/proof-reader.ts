import { inclusionPathPositions, type InclusionProof } from '../core/merkle.js';
import { CHUNK_HASHES, readTreeChunk } from '../store/tree-repository.js';
import type { Store } from '../store/store.js';
import { invariant } from './registry-error.js';

const HASH_BYTES = 32;

/**
 * Derives inclusion proofs on request from a sealed period's stored levels: one small chunk
 * per level, O(log n). Sealed trees never change, so chunks are cached (least recently used).
 */
export class ProofReader {
  private readonly cache = new Map<string, Buffer>();

  constructor(
    private readonly store: Store,
    private readonly maxCachedChunks = 2048,
  ) {}

  /** The proof of leaf `leafIndex` in sealed period `periodId` of `treeSize` leaves. */
  proofOf(periodId: number, treeSize: number, leafIndex: number): InclusionProof {
    const path = inclusionPathPositions(treeSize, leafIndex).map(({ level, index, side }) => ({
      side,
      hash: this.hashAt(periodId, level, index).toString('hex'),
    }));
    return { leafIndex, treeSize, path };
  }

  private hashAt(periodId: number, level: number, index: number): Buffer {
    const chunk = Math.floor(index / CHUNK_HASHES);
    const key = `${periodId}/${level}/${chunk}`;
    let hashes = this.cache.get(key);
    if (hashes) {
      this.cache.delete(key); // re-insert: Map order is recency
    } else {
      hashes = readTreeChunk(this.store, periodId, level, chunk);
      invariant(hashes, `tree of period ${periodId} has no chunk ${level}/${chunk}`);
      if (this.cache.size >= this.maxCachedChunks) this.cache.delete(this.cache.keys().next().value!);
    }
    this.cache.set(key, hashes);
    const offset = (index % CHUNK_HASHES) * HASH_BYTES;
    return hashes.subarray(offset, offset + HASH_BYTES);
  }
}
