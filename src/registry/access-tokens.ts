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
  validateArgument(name.length > 0 && name.length <= 200, 'INVALID_INPUT', 'name must be 1 to 200 characters');
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

/** The principal a bearer token stands for, or undefined for an unknown or revoked token. */
export function authenticate(store: Store, token: string): Principal | undefined {
  if (!TOKEN_SHAPE.test(token)) return undefined;
  const account = findAccountByTokenHash(store, tokenHash(token));
  if (!account) return undefined;
  return { accountId: account.id, name: account.name, role: account.role, pseudonymous: account.pseudonymous === 1 };
}

/** True when an admin can already sign in (so start-up need not make one). */
export function adminExists(store: Store): boolean {
  return hasLiveAdminToken(store);
}

function tokenHash(token: string): Buffer {
  return hash('sha256', token, 'buffer');
}
