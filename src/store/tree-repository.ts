import type { Store } from './store.js';

/** Hashes per stored chunk: 2 KiB rows, each within one 4 KiB database page. */
export const CHUNK_HASHES = 64;
const HASH_BYTES = 32;
const LEVEL_SPAN = 2 ** 26; // chunks per level: 4 billion hashes
const PERIOD_SPAN = 2 ** 32; // 64 levels per period; period ids up to 2^21 stay exact

/** The rowid of a chunk: (period, level, chunk) packed into one integer. */
export function treeChunkId(periodId: number, level: number, chunk: number): number {
  return periodId * PERIOD_SPAN + level * LEVEL_SPAN + chunk;
}

/** Stores every level of a period's tree as chunks of consecutive hashes. Call inside a transaction. */
export function insertTreeLevels(store: Store, periodId: number, levels: readonly Buffer[]): void {
  const chunkBytes = CHUNK_HASHES * HASH_BYTES;
  if (store.engine === 'postgres') {
    // One round trip per few thousand chunks (1M leaves: ~33,000 chunks), as columns unnest turns into rows.
    const rows: { id: number; level: number; chunk: number; hashes: Buffer }[] = [];
    const flush = () => {
      if (rows.length === 0) return;
      store
        .prepare('INSERT INTO tree_chunk (id, period_id, level, chunk, hashes) SELECT u.id, ?, u.level, u.chunk, u.hashes FROM unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::bytea[]) AS u(id, level, chunk, hashes)')
        .run(periodId, rows.map((r) => r.id), rows.map((r) => r.level), rows.map((r) => r.chunk), rows.map((r) => r.hashes));
      rows.length = 0;
    };
    levels.forEach((level, levelIndex) => {
      for (let offset = 0, chunk = 0; offset < level.length; offset += chunkBytes, chunk++) {
        rows.push({ id: treeChunkId(periodId, levelIndex, chunk), level: levelIndex, chunk, hashes: level.subarray(offset, Math.min(offset + chunkBytes, level.length)) });
        if (rows.length === 4_096) flush();
      }
    });
    flush();
    return;
  }
  const stmt = store.prepare('INSERT INTO tree_chunk (id, period_id, level, chunk, hashes) VALUES (?, ?, ?, ?, ?)');
  levels.forEach((level, levelIndex) => {
    for (let offset = 0, chunk = 0; offset < level.length; offset += chunkBytes, chunk++) {
      stmt.run(treeChunkId(periodId, levelIndex, chunk), periodId, levelIndex, chunk, level.subarray(offset, Math.min(offset + chunkBytes, level.length)));
    }
  });
}

/** Removes a period's stored tree (only ever for a period whose seal is being redone). */
export function deleteTree(store: Store, periodId: number): void {
  store.prepare('DELETE FROM tree_chunk WHERE id >= ? AND id < ?').run(periodId * PERIOD_SPAN, (periodId + 1) * PERIOD_SPAN);
}

/** Hash `index` of `level` of a period's stored tree, or undefined when it is not stored. */
export function readTreeHash(store: Store, periodId: number, level: number, index: number): Buffer | undefined {
  return store
    .prepare('SELECT substr(hashes, ?, 32) FROM tree_chunk WHERE id = ?')
    .pluck()
    .get((index % CHUNK_HASHES) * HASH_BYTES + 1, treeChunkId(periodId, level, Math.floor(index / CHUNK_HASHES))) as Buffer | undefined;
}

/** A whole stored chunk (for caching the small upper levels), or undefined. */
export function readTreeChunk(store: Store, periodId: number, level: number, chunk: number): Buffer | undefined {
  return store.prepare('SELECT hashes FROM tree_chunk WHERE id = ?').pluck().get(treeChunkId(periodId, level, chunk)) as Buffer | undefined;
}
