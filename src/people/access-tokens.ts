import { hash, randomBytes } from 'node:crypto';
import {
  findAccountById,
  findAccountByTokenHash,
  hasLiveAdminToken,
  insertAccount,
  insertToken,
} from '../store/accounts-repository.js';
import type { Role } from '../store/database.js';
import type { Store } from '../store/store.js';
import type { Principal } from './principal.js';
import { checkUserText } from './user-text.js';
import { RegistryError, validateArgument } from './registry-error.js';

export const ROLES: readonly Role[] = ['admin', 'registrar', 'depositor'];
const TOKEN_PREFIX = 'as_';
/** Display names of accounts (units, people): they appear in every record the account registers. */
export const MAX_ACCOUNT_NAME_LENGTH = 200;
const TOKEN_SHAPE = /^as_[A-Za-z0-9_-]{43}$/;

export interface IssuedToken {
  /** The bearer token: shown once, stored only as its SHA-256. */
  token: string;
  principal: Principal;
}

/**
 * What a token is issued for: a new account (its display name, role and whether its records name
 * it by a pseudonym), or an existing account named by its id. Never an account found by its
 * name: names are not unique (two citizens called 王芳 are two accounts), so a name that picked
 * an existing account would hand one person's records to another.
 */
export type TokenRequest = { name: string; role: Role; pseudonymous?: boolean } | { accountId: number };

/**
 * Issues a bearer token: for a new account (created with it), or for the existing account
 * `accountId` (another token for it, e.g. a second machine; the earlier ones keep working).
 */
export function issueToken(store: Store, request: TokenRequest, now: Date = new Date()): IssuedToken {
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const principal = store.transaction(() => {
    let account;
    if ('accountId' in request) {
      account = findAccountById(store, request.accountId);
      if (!account) throw new RegistryError('NOT_FOUND', `there is no account ${request.accountId}`);
    } else {
      validateArgument(ROLES.includes(request.role), 'INVALID_INPUT', `role must be one of ${ROLES.join(', ')}`);
      // The name is written into each of the account's records (as the registrant).
      const name = checkUserText(request.name.trim(), 'name', { maxLength: MAX_ACCOUNT_NAME_LENGTH });
      account = insertAccount(store, { name, role: request.role, pseudonymous: request.pseudonymous ?? false, createdAt: now.toISOString() });
    }
    insertToken(store, { accountId: account.id, tokenHash: tokenHash(token), createdAt: now.toISOString() });
    return { accountId: account.id, name: account.name, role: account.role, pseudonymous: account.pseudonymous === 1 };
  });
  return { token, principal };
}

/**
 * Resolves bearer tokens to principals, remembering answers for a short while: every request
 * is authenticated, and a database round trip per request costs more than the registration.
 */
export class TokenAuthenticator {
  private readonly cache = new Map<string, { principal: Principal; until: number }>();

  constructor(
    private readonly store: Store,
    private readonly ttlMs = 30_000,
    private readonly maxEntries = 10_000,
  ) {}

  /** The principal a bearer token stands for, or undefined for an unknown or revoked token. */
  authenticate(token: string): Principal | undefined {
    if (!TOKEN_SHAPE.test(token)) return undefined;
    const now = Date.now();
    const hit = this.cache.get(token);
    if (hit && hit.until > now) return hit.principal;
    const account = findAccountByTokenHash(this.store, tokenHash(token));
    if (!account) {
      this.cache.delete(token);
      return undefined;
    }
    const principal = { accountId: account.id, name: account.name, role: account.role, pseudonymous: account.pseudonymous === 1 };
    if (this.cache.size >= this.maxEntries) this.cache.clear();
    this.cache.set(token, { principal, until: now + this.ttlMs });
    return principal;
  }
}

/** True when an admin can already sign in (so start-up need not make one). */
export function adminExists(store: Store): boolean {
  return hasLiveAdminToken(store);
}

function tokenHash(token: string): Buffer {
  return hash('sha256', token, 'buffer');
}
