import { hash, randomBytes } from 'node:crypto';
import {
  findAccountByName,
  findAccountByTokenHash,
  hasLiveAdminToken,
  insertAccount,
  insertToken,
} from '../store/accounts-repository.js';
import type { Role } from '../store/database.js';
import type { Store } from '../store/store.js';
import type { Principal } from './principal.js';
import { isPlainText } from './registration-input.js';
import { validateArgument } from './registry-error.js';

export const ROLES: readonly Role[] = ['admin', 'registrar', 'depositor'];
const TOKEN_PREFIX = 'as_';
const TOKEN_SHAPE = /^as_[A-Za-z0-9_-]{43}$/;

export interface IssuedToken {
  /** The bearer token: shown once, stored only as its SHA-256. */
  token: string;
  principal: Principal;
}

/**
 * Issues a bearer token for the account `name`, creating the account (with `role`) if it is new.
 * An existing account keeps its role: asking for another role is an error, not a promotion.
 */
export function issueToken(
  store: Store,
  request: { name: string; role: Role; pseudonymous?: boolean },
  now: Date = new Date(),
): IssuedToken {
  validateArgument(ROLES.includes(request.role), 'INVALID_INPUT', `role must be one of ${ROLES.join(', ')}`);
  const name = request.name.trim();
  // The name is written into each of the account's records (as the registrant).
  validateArgument(name.length > 0 && name.length <= 200 && isPlainText(name), 'INVALID_INPUT', 'name must be 1 to 200 characters without control characters or unpaired surrogates');
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const principal = store.transaction(() => {
    let account = findAccountByName(store, name);
    if (account) {
      validateArgument(account.role === request.role, 'INVALID_INPUT', `account "${name}" exists with role ${account.role}`);
    } else {
      account = insertAccount(store, {
        name,
        role: request.role,
        pseudonymous: request.pseudonymous ?? false,
        createdAt: now.toISOString(),
      });
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
