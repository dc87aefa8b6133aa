import type { Store } from './store.js';
import type { VaultBlobRow, VaultBlobTable } from './database.js';
import type { Insertable } from 'kysely';
import { refreshCopyCount } from './copy-counts-repository.js';
import { markBlobReplicasPending } from './replicas-repository.js';

/** Records a blob once its file is in place; a second ingest of the same content changes nothing. */
export function insertVaultBlob(store: Store, row: Insertable<VaultBlobTable>): boolean {
  return store.transaction(() => {
    const inserted = store.run(store.db.insertInto('vault_blob').values(row).onConflict((oc) => oc.column('sha256').doNothing())) > 0;
    if (inserted) refreshCopyCount(store, 'blob', (row.sha256 as Buffer).toString('hex'));
    return inserted;
  });
}

/**
 * Replaces a blob's row (after a repair, a restore or the same content uploaded again wrote a new
 * file for it). Its ciphertext may differ from what the peers confirmed holding, so their copies
 * are queued to be compared again (and replaced where they differ) in the same transaction.
 */
export function replaceVaultBlob(store: Store, row: Insertable<VaultBlobTable>, now: string): void {
  store.transaction(() => {
    store.run(store.db.deleteFrom('vault_blob').where('sha256', '=', row.sha256 as Buffer));
    store.run(store.db.insertInto('vault_blob').values(row));
    markBlobReplicasPending(store, (row.sha256 as Buffer).toString('hex'), now);
    refreshCopyCount(store, 'blob', (row.sha256 as Buffer).toString('hex'));
  });
}

export function findVaultBlob(store: Store, sha256: Buffer): VaultBlobRow | undefined {
  return store.first(store.db.selectFrom('vault_blob').selectAll().where('sha256', '=', sha256));
}

export function setBlobCipherSha256(store: Store, sha256: Buffer, cipherSha256: Buffer): void {
  store.run(store.db.updateTable('vault_blob').set({ cipher_sha256: cipherSha256 }).where('sha256', '=', sha256));
}

export function setBlobStatus(store: Store, sha256: Buffer, status: VaultBlobRow['status'], checkedAt: string): void {
  store.transaction(() => {
    store.run(store.db.updateTable('vault_blob').set({ status, checked_at: checkedAt }).where('sha256', '=', sha256));
    refreshCopyCount(store, 'blob', sha256.toString('hex'));
  });
}

export function countVaultBlobs(store: Store): number {
  return Number(store.first(store.db.selectFrom('vault_blob').select((eb) => eb.fn.countAll<number>().as('n')))?.n ?? 0);
}

/** Blobs whose local copy was checked longest ago (never checked first). */
export function listBlobsDueForCheck(store: Store, limit: number): VaultBlobRow[] {
  return store.all(
    store.db
      .selectFrom('vault_blob')
      .selectAll()
      .orderBy((eb) => eb.fn.coalesce('checked_at', eb.val('')), 'asc')
      .orderBy('created_at')
      .limit(limit),
  );
}

