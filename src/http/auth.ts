import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { TokenAuthenticator } from '../registry/access-tokens.js';
import type { Principal } from '../registry/principal.js';
import type { Role } from '../store/database.js';
import { parsePositiveId } from '../core/positive-id.js';
import { ApiError } from './api-error.js';
import type { AppEnv } from './app-env.js';
import { requestHeader } from './request-body.js';

/**
 * Requires `Authorization: Bearer <token>` of an account holding one of `roles`
 * (401 without a valid token, 403 with a token of another role).
 */
export function requireRole(tokens: TokenAuthenticator, ...roles: Role[]) {
  return createMiddleware<AppEnv>(async (c, next) => {
    // Sub-apps mounted on one path each bring this middleware: authenticate a request once.
    const principal = (c.get('principal') as Principal | undefined) ?? authenticate(c, tokens);
    if (!roles.includes(principal.role)) {
      throw new ApiError(403, 'FORBIDDEN', `this needs the role ${roles.join(' or ')}; the token is ${principal.role}`);
    }
    c.set('principal', principal);
    await next();
  });
}

function authenticate(c: Context<AppEnv>, tokens: TokenAuthenticator): Principal {
  const header = requestHeader(c, 'authorization');
  if (!header) {
    c.header('WWW-Authenticate', 'Bearer realm="archive-seal"');
    throw new ApiError(401, 'UNAUTHORIZED', 'a bearer token is required (Authorization: Bearer <token>)');
  }
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  const principal = match ? tokens.authenticate(match[1]!) : undefined;
  if (!principal) {
    c.header('WWW-Authenticate', 'Bearer realm="archive-seal", error="invalid_token"');
    throw new ApiError(401, 'INVALID_TOKEN', 'the bearer token is unknown or revoked');
  }
  return principal;
}

/** A list's `limit` query parameter: `fallback` when absent, at most 1,000, else INVALID_INPUT. */
export function parseLimit(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,4}$/.test(value) || Number(value) > 1000) throw new ApiError(400, 'INVALID_INPUT', 'limit must be a whole number from 0 to 1000');
  return Number(value);
}

/** Parses a positive integer path parameter, or answers 400 INVALID_ID. */
export function parseId(value: string | undefined, what: string): number {
  const id = value === undefined ? undefined : parsePositiveId(value);
  if (id === undefined) throw new ApiError(400, 'INVALID_ID', `${what} id must be a positive integer`);
  return id;
}
