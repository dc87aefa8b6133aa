import { hash, randomBytes } from 'node:crypto';
import { findAccountById, hasUsableAdmin, insertAccount, insertToken } from '../store/accounts-repository.js';
import type { AccountRow, Role, UserRole } from '../store/database.js';
import type { Store } from '../store/store.js';
import { insertUnit } from '../store/units-repository.js';
import { findUserBySessionHash, findUserByTokenHash, findUserWithAccount, insertUser, type UserWithAccount } from '../store/users-repository.js';
import type { Principal } from '../registry/principal.js';
import { checkUserText } from '../registry/user-text.js';
import { RegistryError, validateArgument } from '../registry/registry-error.js';

/** The kinds of account `POST /v1/tokens` and `tokens create` make with a name (the API before users). */
export const ROLES: readonly Role[] = ['admin', 'registrar', 'depositor'];
const TOKEN_PREFIX = 'as_';
/** Display names of accounts (units, people): they appear in every record the account registers. */
export const MAX_ACCOUNT_NAME_LENGTH = 200;
const TOKEN_SHAPE = /^as_[A-Za-z0-9_-]{43}$/;

/** The account a token registers as, as `POST /v1/tokens` has always answered. */
export interface AccountView {
  accountId: number;
  name: string;
  role: Role;
  pseudonymous: boolean;
}

export interface IssuedToken {
  /** The bearer token: shown once, stored only as its SHA-256. */
  token: string;
  tokenId: number;
  expiresAt: string | null;
  principal: Principal;
  account: AccountView;
}

/**
 * What a token is issued for: a new account (its display name, role and whether its records name
 * it by a pseudonym), an existing account named by its id (the token of its first user), or a
 * user. Never an account found by its name: names are not unique (two citizens called 王芳 are
 * two accounts), so a name that picked an existing account would hand one person's records to
 * another.
 *
 * A new account gets a user as the migration of issue 19 made them: admin and registrar a user of
 * that role; a named depositor a unit of its name with a unit-admin user; a pseudonymous depositor
 * a citizen user. Its login name is `account-<id>`, without a password.
 */
export type TokenRequest =
  | { name: string; role: Role; pseudonymous?: boolean }
  | { accountId: number }
  | { userId: number; expiresAt?: string | null };

/** Issues a bearer token (see TokenRequest); the earlier tokens of the same user keep working. */
export function issueToken(store: Store, request: TokenRequest, now: Date = new Date()): IssuedToken {
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  return store.transaction(() => {
    let found: UserWithAccount | undefined;
    let expiresAt: string | null = null;
    if ('userId' in request) {
      found = findUserWithAccount(store, request.userId);
      if (!found) throw new RegistryError('NOT_FOUND', `there is no user ${request.userId}`);
      expiresAt = request.expiresAt ?? null;
    } else if ('accountId' in request) {
      const account = findAccountById(store, request.accountId);
      if (!account) throw new RegistryError('NOT_FOUND', `there is no account ${request.accountId}`);
      // An account without a user (one a recovery from peers brought back: bundles carry
      // accounts, not users) gets the user the migration would have given it.
      const first = store.first(store.db.selectFrom('app_user').select('id').where('account_id', '=', account.id).orderBy('id').limit(1));
      found = findUserWithAccount(store, first?.id ?? insertUserForAccount(store, account, now).id)!;
    } else {
      validateArgument(ROLES.includes(request.role), 'INVALID_INPUT', `role must be one of ${ROLES.join(', ')}`);
      // The name is written into each of the account's records (as the registrant).
      const name = checkUserText(request.name.trim(), 'name', { maxLength: MAX_ACCOUNT_NAME_LENGTH });
      const account = insertAccount(store, { name, role: request.role, pseudonymous: request.pseudonymous ?? false, createdAt: now.toISOString() });
      const userId = insertUserForAccount(store, account, now).id;
      found = findUserWithAccount(store, userId)!;
    }
    const row = insertToken(store, {
      accountId: found.user.account_id,
      userId: found.user.id,
      tokenHash: tokenHash(token),
      createdAt: now.toISOString(),
      expiresAt,
    });
    const account = findAccountById(store, found.user.account_id)!;
    return { token, tokenId: row.id, expiresAt, principal: principalOf(found), account: toAccountView(account) };
  });
}

/** The user an account made before users stands for (see TokenRequest). */
function insertUserForAccount(store: Store, account: AccountRow, now: Date) {
  let role: UserRole;
  let unitId: number | null = null;
  if (account.role === 'depositor' && account.pseudonymous === 0) {
    const unit = insertUnit(store, {
      name: account.name,
      creditCode: null,
      kind: null,
      region: null,
      inTransferScope: false,
      digitalArchiveRoom: false,
      contact: null,
      accountId: account.id,
      createdAt: now.toISOString(),
    });
    unitId = unit.id;
    role = 'unit-admin';
  } else if (account.role === 'depositor') {
    role = 'citizen';
  } else {
    role = account.role;
  }
  return insertUser(store, {
    username: `account-${account.id}`,
    displayName: account.name,
    role,
    unitId,
    accountId: account.id,
    passwordHash: null,
    createdAt: now.toISOString(),
  });
}

export function toAccountView(account: AccountRow): AccountView {
  return { accountId: account.id, name: account.name, role: account.role, pseudonymous: account.pseudonymous === 1 };
}

/** The principal of a user: its role, and the account it registers as. */
export function principalOf(found: UserWithAccount): Principal {
  return {
    accountId: found.user.account_id,
    name: found.accountName,
    role: found.user.role,
    pseudonymous: found.pseudonymous === 1,
    userId: found.user.id,
    username: found.user.username,
    unitId: found.user.unit_id,
  };
}

/** True when the user may act now: active, and (for a unit's user) its unit active. */
export function isUsable(found: UserWithAccount): boolean {
  return found.user.status === 'active' && (found.unitStatus === null || found.unitStatus === 'active');
}

/**
 * Resolves bearer tokens to principals, remembering answers for a short while: every request
 * is authenticated, and a database round trip per request costs more than the registration.
 * Whatever changes who a principal is (a revoked token, a suspended user or unit, a new name)
 * calls `forget`, so the change holds from the next request on.
 */
export class TokenAuthenticator {
  private readonly cache = new Map<string, { principal: Principal; until: number }>();

  constructor(
    private readonly store: Store,
    private readonly ttlMs = 30_000,
    private readonly maxEntries = 10_000,
  ) {}

  /** The principal a bearer token stands for, or undefined for an unknown, revoked or expired token. */
  authenticate(token: string): Principal | undefined {
    if (!TOKEN_SHAPE.test(token)) return undefined;
    const now = Date.now();
    const hit = this.cache.get(token);
    if (hit && hit.until > now) return hit.principal;
    const found = findUserByTokenHash(this.store, tokenHash(token), new Date(now).toISOString());
    if (!found || !isUsable(found)) {
      this.cache.delete(token);
      return undefined;
    }
    const principal = principalOf(found);
    if (this.cache.size >= this.maxEntries) this.cache.clear();
    // An expiring token is remembered no longer than it lives.
    const expires = found.expiresAt ? Date.parse(found.expiresAt) : Number.POSITIVE_INFINITY;
    this.cache.set(token, { principal, until: Math.min(now + this.ttlMs, expires) });
    return principal;
  }

  /**
   * The principal of a live session, by the id its cookie carries; remembered as tokens are (a
   * logout, a new password or a suspension calls `forget`, so it holds from the next request),
   * and never past the session's end.
   */
  authenticateSession(sessionId: string): Principal | undefined {
    if (!TOKEN_SHAPE.test(`as_${sessionId}`)) return undefined;
    const key = `session:${sessionId}`;
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && hit.until > now) return hit.principal;
    const found = findUserBySessionHash(this.store, tokenHash(sessionId), new Date(now).toISOString());
    if (!found || !isUsable(found)) {
      this.cache.delete(key);
      return undefined;
    }
    const principal = principalOf(found);
    if (this.cache.size >= this.maxEntries) this.cache.clear();
    this.cache.set(key, { principal, until: Math.min(now + this.ttlMs, found.expiresAt ? Date.parse(found.expiresAt) : now) });
    return principal;
  }

  /** Drops every remembered answer. */
  forget(): void {
    this.cache.clear();
  }
}

/** True when an admin can already sign in (so start-up need not make one). */
export function adminExists(store: Store): boolean {
  return hasUsableAdmin(store, new Date().toISOString());
}

export function tokenHash(token: string): Buffer {
  return hash('sha256', token, 'buffer');
}
