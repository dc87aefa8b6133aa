import type { Principal } from '../registry/principal.js';
import { findTokenById, listTokens, revokeToken } from '../store/accounts-repository.js';
import type { ApiTokenRow } from '../store/database.js';
import type { Store } from '../store/store.js';
import { findUserById } from '../store/users-repository.js';
import { issueToken, type IssuedToken, type TokenRequest } from './access-tokens.js';
import { authorize, authorizeUserManagement } from './permissions.js';
import { PeopleError, validatePeople } from './people-error.js';

const MAX_EXPIRY_DAYS = 3660;

/** A token as lists show it (never the token itself: it is shown once, when issued). */
export interface TokenView {
  id: number;
  userId: number | null;
  username: string | null;
  accountId: number;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  status: 'live' | 'revoked' | 'expired';
}

/**
 * API tokens of users: a user issues its own (with an expiry if it likes), lists its own and
 * revokes them; whoever manages a user (src/people/permissions.ts) does the same for that user;
 * admins and auditors list all. A revocation holds from the next request on.
 */
export class TokenService {
  constructor(
    private readonly store: Store,
    /** Drops remembered token answers (TokenAuthenticator.forget). */
    private readonly onRevoke: () => void,
  ) {}

  /**
   * `{ "userId"?, "expiresInDays"? }`: a token for the user (itself when userId is left out). The
   * forms of the API before users (`{ name, role, pseudonymous }`, `{ accountId }`) stay, for admins.
   */
  issue(principal: Principal, body: unknown, now: Date = new Date()): IssuedToken {
    validatePeople(typeof body === 'object' && body !== null && !Array.isArray(body), 'INVALID_INPUT', TOKEN_USAGE);
    const given = body as Record<string, unknown>;
    if ('name' in given || 'role' in given || 'accountId' in given) {
      authorize(principal, 'tokens.create-account');
      return issueToken(this.store, parseAccountRequest(given), now);
    }
    authorize(principal, 'tokens.issue');
    const { userId, expiresInDays, ...rest } = given;
    const unknown = Object.keys(rest)[0];
    validatePeople(unknown === undefined, 'INVALID_INPUT', `${unknown} is not a token field; ${TOKEN_USAGE}`);
    validatePeople(userId === undefined || (Number.isSafeInteger(userId) && (userId as number) > 0), 'INVALID_INPUT', 'userId must be a user id (a positive integer)');
    validatePeople(
      expiresInDays === undefined || (Number.isSafeInteger(expiresInDays) && (expiresInDays as number) >= 1 && (expiresInDays as number) <= MAX_EXPIRY_DAYS),
      'INVALID_INPUT',
      `expiresInDays must be a whole number from 1 to ${MAX_EXPIRY_DAYS}`,
    );
    const target = (userId as number | undefined) ?? principal.userId;
    validatePeople(target !== undefined, 'INVALID_INPUT', 'give userId');
    if (target !== principal.userId) {
      const user = findUserById(this.store, target);
      if (!user) throw new PeopleError('NOT_FOUND', `no user ${target}`);
      authorizeUserManagement(principal, { role: user.role, unitId: user.unit_id });
    }
    const expiresAt = expiresInDays === undefined ? null : new Date(now.getTime() + (expiresInDays as number) * 86_400_000).toISOString();
    return issueToken(this.store, { userId: target, expiresAt }, now);
  }

  /** The principal's own tokens; all for admins and auditors (`all`), or one user's. */
  list(principal: Principal, options: { limit: number; after?: number; all?: boolean }, now: Date = new Date()): TokenView[] {
    authorize(principal, 'tokens.list');
    if (options.all) {
      authorize(principal, 'tokens.list-all');
      return listTokens(this.store, { limit: options.limit, ...(options.after !== undefined && { after: options.after }) }).map((t) => toTokenView(t, now));
    }
    if (principal.userId === undefined) return [];
    return listTokens(this.store, { limit: options.limit, userId: principal.userId, ...(options.after !== undefined && { after: options.after }) }).map((t) => toTokenView(t, now));
  }

  /** Revokes token `id`: its own user's, or one of a user the principal manages; NOT_FOUND otherwise. */
  revoke(principal: Principal, id: number, now: Date = new Date()): TokenView {
    authorize(principal, 'tokens.revoke');
    const token = findTokenById(this.store, id);
    const user = token?.user_id == null ? undefined : findUserById(this.store, token.user_id);
    if (!token || !user) throw new PeopleError('NOT_FOUND', `no token ${id}`);
    if (user.id !== principal.userId) {
      try {
        authorizeUserManagement(principal, { role: user.role, unitId: user.unit_id });
      } catch {
        // Another's token id reveals nothing: as for one that does not exist.
        throw new PeopleError('NOT_FOUND', `no token ${id}`);
      }
    }
    revokeToken(this.store, id, now.toISOString());
    this.onRevoke();
    return toTokenView({ ...findTokenById(this.store, id)!, username: user.username }, now);
  }
}

const TOKEN_USAGE =
  'send { "userId"?: N, "expiresInDays"?: D } for a token of a user (yourself without userId); admins also { "name", "role": "admin" | "registrar" | "depositor", "pseudonymous"? } for a new account, or { "accountId": N }';

function parseAccountRequest(given: Record<string, unknown>): TokenRequest {
  const { accountId, name, role, pseudonymous, ...rest } = given;
  const unknown = Object.keys(rest)[0];
  validatePeople(unknown === undefined, 'INVALID_INPUT', `${unknown} is not a token field; ${TOKEN_USAGE}`);
  if (accountId !== undefined) {
    validatePeople(
      name === undefined && role === undefined && pseudonymous === undefined,
      'INVALID_INPUT',
      'accountId names an existing account: its name, role and pseudonymity stay as they are; send accountId alone',
    );
    validatePeople(Number.isSafeInteger(accountId) && (accountId as number) > 0, 'INVALID_INPUT', 'accountId must be an account id (a positive integer)');
    return { accountId: accountId as number };
  }
  validatePeople(typeof name === 'string' && typeof role === 'string', 'INVALID_INPUT', TOKEN_USAGE);
  validatePeople(pseudonymous === undefined || typeof pseudonymous === 'boolean', 'INVALID_INPUT', 'pseudonymous must be true or false');
  return { name, role: role as 'admin', pseudonymous: pseudonymous ?? false };
}

function toTokenView(t: ApiTokenRow & { username: string | null }, now: Date): TokenView {
  const expired = t.expires_at !== null && Date.parse(t.expires_at) <= now.getTime();
  return {
    id: t.id,
    userId: t.user_id,
    username: t.username,
    accountId: t.account_id,
    createdAt: t.created_at,
    expiresAt: t.expires_at,
    revokedAt: t.revoked_at,
    status: t.revoked_at !== null ? 'revoked' : expired ? 'expired' : 'live',
  };
}
