import type { Store } from './store.js';
import type { AccountRow, Role } from './database.js';

/** The account a live (not revoked) token belongs to, by the token's SHA-256. */
export function findAccountByTokenHash(store: Store, tokenHash: Buffer): AccountRow | undefined {
  return store.first(
    store.db
      .selectFrom('api_token')
      .innerJoin('account', 'account.id', 'api_token.account_id')
      .selectAll('account')
      .where('api_token.token_hash', '=', tokenHash)
      .where('api_token.revoked_at', 'is', null),
  );
}

export function findAccountById(store: Store, id: number): AccountRow | undefined {
  return store.first(store.db.selectFrom('account').selectAll().where('id', '=', id));
}

export function insertAccount(
  store: Store,
  account: { name: string; role: Role; pseudonymous: boolean; createdAt: string },
): AccountRow {
  const row = store.first(
    store.db
      .insertInto('account')
      .values({
        name: account.name,
        role: account.role,
        pseudonymous: account.pseudonymous ? 1 : 0,
        created_at: account.createdAt,
      })
      .returningAll(),
  );
  if (!row) throw new Error('insert returned no row');
  return row;
}

export function insertToken(store: Store, token: { accountId: number; tokenHash: Buffer; createdAt: string }): number {
  const row = store.first(
    store.db
      .insertInto('api_token')
      .values({ account_id: token.accountId, token_hash: token.tokenHash, created_at: token.createdAt })
      .returning('id'),
  );
  if (!row) throw new Error('insert returned no row');
  return row.id;
}

/** True when at least one admin account holds a live token. */
export function hasLiveAdminToken(store: Store): boolean {
  return (
    store.first(
      store.db
        .selectFrom('api_token')
        .innerJoin('account', 'account.id', 'api_token.account_id')
        .select('api_token.id')
        .where('account.role', '=', 'admin')
        .where('api_token.revoked_at', 'is', null)
        .limit(1),
    ) !== undefined
  );
}

export function getCenterMeta(store: Store, key: string): string | undefined {
  return store.first(store.db.selectFrom('center_meta').select('value').where('key', '=', key))?.value;
}

export function deleteCenterMeta(store: Store, key: string): void {
  store.run(store.db.deleteFrom('center_meta').where('key', '=', key));
}

export function setCenterMeta(store: Store, key: string, value: string): void {
  store.run(
    store.db
      .insertInto('center_meta')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value })),
  );
}
