import type { Store } from './store.js';
import type { AppUserRow, UnitRow, UserRole, UserSessionRow } from './database.js';

export interface NewUser {
  username: string;
  displayName: string;
  role: UserRole;
  unitId: number | null;
  accountId: number;
  passwordHash: string | null;
  createdAt: string;
}

export function insertUser(store: Store, user: NewUser): AppUserRow {
  const row = store.first(
    store.db
      .insertInto('app_user')
      .values({
        username: user.username,
        display_name: user.displayName,
        role: user.role,
        unit_id: user.unitId,
        account_id: user.accountId,
        password_hash: user.passwordHash,
        failed_logins: 0,
        locked_until: null,
        status: 'active',
        created_at: user.createdAt,
      })
      .returningAll(),
  );
  if (!row) throw new Error('insert returned no row');
  return row;
}

export function findUserById(store: Store, id: number): AppUserRow | undefined {
  return store.first(store.db.selectFrom('app_user').selectAll().where('id', '=', id));
}

export function findUserByUsername(store: Store, username: string): AppUserRow | undefined {
  return store.first(store.db.selectFrom('app_user').selectAll().where('username', '=', username));
}

/** Users in id order after `after`, optionally of one unit. */
export function listUsers(store: Store, options: { limit: number; after?: number; unitId?: number }): AppUserRow[] {
  let query = store.db.selectFrom('app_user').selectAll().orderBy('id', 'asc').limit(options.limit);
  if (options.after !== undefined) query = query.where('id', '>', options.after);
  if (options.unitId !== undefined) query = query.where('unit_id', '=', options.unitId);
  return store.all(query);
}

export type UserChanges = Partial<Pick<AppUserRow, 'display_name' | 'role' | 'password_hash' | 'failed_logins' | 'locked_until' | 'status'>>;

export function updateUser(store: Store, id: number, changes: UserChanges): AppUserRow | undefined {
  return store.first(store.db.updateTable('app_user').set(changes).where('id', '=', id).returningAll());
}

/** The user, its account and (for a unit's user) its unit, as one principal needs them. */
export interface UserWithAccount {
  user: AppUserRow;
  accountName: string;
  pseudonymous: number;
  unitStatus: UnitRow['status'] | null;
  /** The token's or session's expiry, when found by one. */
  expiresAt?: string | null;
}

function userJoin(store: Store) {
  return store.db
    .selectFrom('app_user')
    .innerJoin('account', 'account.id', 'app_user.account_id')
    .leftJoin('unit', 'unit.id', 'app_user.unit_id')
    .selectAll('app_user')
    .select(['account.name as account_name', 'account.pseudonymous as account_pseudonymous', 'unit.status as unit_status']);
}

function toUserWithAccount(row: (AppUserRow & { account_name: string; account_pseudonymous: number; unit_status: UnitRow['status'] | null }) | undefined): UserWithAccount | undefined {
  if (!row) return undefined;
  const { account_name, account_pseudonymous, unit_status, ...user } = row;
  return { user, accountName: account_name, pseudonymous: account_pseudonymous, unitStatus: unit_status };
}

export function findUserWithAccount(store: Store, userId: number): UserWithAccount | undefined {
  return toUserWithAccount(store.first(userJoin(store).where('app_user.id', '=', userId)));
}

/** The user a live token (not revoked, not expired at `now`) belongs to, by the token's SHA-256. */
export function findUserByTokenHash(store: Store, tokenHash: Buffer, now: string): UserWithAccount | undefined {
  const row = store.first(
      userJoin(store)
        .innerJoin('api_token', 'api_token.user_id', 'app_user.id')
        .select('api_token.expires_at as token_expires_at')
        .where('api_token.token_hash', '=', tokenHash)
        .where('api_token.revoked_at', 'is', null)
        .where((eb) => eb.or([eb('api_token.expires_at', 'is', null), eb('api_token.expires_at', '>', now)])),
  );
  if (!row) return undefined;
  const { token_expires_at, ...rest } = row;
  return { ...toUserWithAccount(rest)!, expiresAt: token_expires_at };
}

/** The user of a live session (not ended, not expired at `now`), by the session id's SHA-256. */
export function findUserBySessionHash(store: Store, sessionHash: Buffer, now: string): UserWithAccount | undefined {
  const row = store.first(
    userJoin(store)
      .innerJoin('user_session', 'user_session.user_id', 'app_user.id')
      .select('user_session.expires_at as session_expires_at')
      .where('user_session.session_hash', '=', sessionHash)
      .where('user_session.ended_at', 'is', null)
      .where('user_session.expires_at', '>', now),
  );
  if (!row) return undefined;
  const { session_expires_at, ...rest } = row;
  return { ...toUserWithAccount(rest)!, expiresAt: session_expires_at };
}

export function insertSession(store: Store, session: { sessionHash: Buffer; userId: number; createdAt: string; expiresAt: string }): void {
  store.run(
    store.db.insertInto('user_session').values({
      session_hash: session.sessionHash,
      user_id: session.userId,
      created_at: session.createdAt,
      expires_at: session.expiresAt,
      ended_at: null,
    }),
  );
}

/** Ends a session; true when it was live. */
export function endSession(store: Store, sessionHash: Buffer, endedAt: string): boolean {
  return store.run(store.db.updateTable('user_session').set({ ended_at: endedAt }).where('session_hash', '=', sessionHash).where('ended_at', 'is', null)) > 0;
}

/** Ends every live session of a user (password change, suspension). */
export function endSessionsOfUser(store: Store, userId: number, endedAt: string): void {
  store.run(store.db.updateTable('user_session').set({ ended_at: endedAt }).where('user_id', '=', userId).where('ended_at', 'is', null));
}

export type SessionRow = UserSessionRow;
