import type { Store } from './store.js';
import type { AccountRow, ApiTokenRow, Role } from './database.js';

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

export function insertToken(
  store: Store,
  token: { accountId: number; userId: number; tokenHash: Buffer; createdAt: string; expiresAt: string | null },
): ApiTokenRow {
  const row = store.first(
    store.db
      .insertInto('api_token')
      .values({
        account_id: token.accountId,
        user_id: token.userId,
        token_hash: token.tokenHash,
        created_at: token.createdAt,
        expires_at: token.expiresAt,
      })
      .returningAll(),
  );
  if (!row) throw new Error('insert returned no row');
  return row;
}

export function findTokenById(store: Store, id: number): ApiTokenRow | undefined {
  return store.first(store.db.selectFrom('api_token').selectAll().where('id', '=', id));
}

/** Tokens in id order after `after`: of one user, of one unit's users, or all. */
export function listTokens(store: Store, options: { limit: number; after?: number; userId?: number; unitId?: number }): (ApiTokenRow & { username: string | null })[] {
  let query = store.db
    .selectFrom('api_token')
    .leftJoin('app_user', 'app_user.id', 'api_token.user_id')
    .selectAll('api_token')
    .select('app_user.username')
    .orderBy('api_token.id', 'asc')
    .limit(options.limit);
  if (options.after !== undefined) query = query.where('api_token.id', '>', options.after);
  if (options.userId !== undefined) query = query.where('api_token.user_id', '=', options.userId);
  if (options.unitId !== undefined) query = query.where('app_user.unit_id', '=', options.unitId);
  return store.all(query);
}

/** Revokes a live token; true when it was live. */
export function revokeToken(store: Store, id: number, revokedAt: string): boolean {
  return store.run(store.db.updateTable('api_token').set({ revoked_at: revokedAt }).where('id', '=', id).where('revoked_at', 'is', null)) > 0;
}

/** True when at least one active admin user can sign in: a password, or a live token. */
export function hasUsableAdmin(store: Store, now: string): boolean {
  const withPassword = store.first(
    store.db.selectFrom('app_user').select('id').where('role', '=', 'admin').where('status', '=', 'active').where('password_hash', 'is not', null).limit(1),
  );
  if (withPassword) return true;
  return (
    store.first(
      store.db
        .selectFrom('api_token')
        .innerJoin('app_user', 'app_user.id', 'api_token.user_id')
        .select('api_token.id')
        .where('app_user.role', '=', 'admin')
        .where('app_user.status', '=', 'active')
        .where('api_token.revoked_at', 'is', null)
        .where((eb) => eb.or([eb('api_token.expires_at', 'is', null), eb('api_token.expires_at', '>', now)]))
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

/** Sets what kind of account it is (a staff member's account when the member's role changes). */
export function setAccountRole(store: Store, id: number, role: Role): void {
  store.run(store.db.updateTable('account').set({ role }).where('id', '=', id));
}
