import type { Store } from './store.js';

/** Hashes per stored chunk: 16 KiB rows, so a proof reads one small row per level. */
export const CHUNK_HASHES = 512;
const HASH_BYTES = 32;

/** Stores every level of a period's tree as chunks of consecutive hashes. Call inside a transaction. */
export function insertTreeLevels(store: Store, periodId: number, levels: readonly Buffer[]): void {
  const stmt = store.prepare('INSERT INTO tree_chunk (period_id, level, chunk, hashes) VALUES (?, ?, ?, ?)');
  const chunkBytes = CHUNK_HASHES * HASH_BYTES;
  levels.forEach((level, levelIndex) => {
    for (let offset = 0, chunk = 0; offset < level.length; offset += chunkBytes, chunk++) {
      stmt.run(periodId, levelIndex, chunk, level.subarray(offset, Math.min(offset + chunkBytes, level.length)));
    }
  });
}

/** Removes a period's stored tree (only ever for a period whose seal is being redone). */
export function deleteTree(store: Store, periodId: number): void {
  store.run(store.db.deleteFrom('tree_chunk').where('period_id', '=', periodId));
}

/** The chunk holding node `index` of `level`, or undefined when the tree is not stored. */
export function readTreeChunk(store: Store, periodId: number, level: number, chunk: number): Buffer | undefined {
  return store.prepare('SELECT hashes FROM tree_chunk WHERE period_id = ? AND level = ? AND chunk = ?')
    .pluck()
    .get(periodId, level, chunk) as Buffer | undefined;
}
