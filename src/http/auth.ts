import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { TokenAuthenticator } from '../people/access-tokens.js';
import { authorize, type Action } from '../people/permissions.js';
import type { Principal } from '../registry/principal.js';
import { parsePositiveId } from '../core/positive-id.js';
import { ApiError } from './api-error.js';
import type { AppEnv } from './app-env.js';
import { requestHeader } from './request-body.js';

/** The session cookie `POST /v1/session` sets (HttpOnly, SameSite=Strict, Secure over TLS). */
export const SESSION_COOKIE = 'archive_seal_session';

/**
 * Requires a signed-in user (a bearer token, or the session cookie) whose role may do `action`
 * (src/people/permissions.ts): 401 without valid credentials, 403 FORBIDDEN otherwise. Without an
 * action, any signed-in user passes (the handler's service asks its own scoped question).
 */
export function requirePermission(tokens: TokenAuthenticator, action?: Action) {
  return createMiddleware<AppEnv>(async (c, next) => {
    // Sub-apps mounted on one path each bring this middleware: authenticate a request once.
    const principal = (c.get('principal') as Principal | undefined) ?? authenticate(c, tokens);
    c.set('principal', principal);
    if (action) authorize(principal, action);
    await next();
  });
}

function authenticate(c: Context<AppEnv>, tokens: TokenAuthenticator): Principal {
  const header = requestHeader(c, 'authorization');
  if (!header) {
    const sessionId = sessionCookie(c);
    if (sessionId !== undefined) return authenticateSession(c, tokens, sessionId);
    c.header('WWW-Authenticate', 'Bearer realm="archive-seal"');
    throw new ApiError(401, 'UNAUTHORIZED', 'a bearer token (Authorization: Bearer <token>) or a session (POST /v1/session) is required');
  }
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  const principal = match ? tokens.authenticate(match[1]!) : undefined;
  if (!principal) {
    c.header('WWW-Authenticate', 'Bearer realm="archive-seal", error="invalid_token"');
    throw new ApiError(401, 'INVALID_TOKEN', 'the bearer token is unknown, revoked or expired, or its user or unit is suspended');
  }
  return principal;
}

function authenticateSession(c: Context<AppEnv>, tokens: TokenAuthenticator, sessionId: string): Principal {
  const principal = tokens.authenticateSession(sessionId);
  if (!principal) throw new ApiError(401, 'INVALID_SESSION', 'the session has ended or expired: sign in again (POST /v1/session)');
  // A cookie rides along on any request the browser makes to this host. SameSite=Strict keeps it
  // off other sites' requests; a browser also names the page's origin on every unsafe request, and
  // one that is not ours is refused (the OWASP CSRF cheat sheet's "verifying origin" defence).
  if (!['GET', 'HEAD', 'OPTIONS'].includes(c.req.method)) {
    const origin = requestHeader(c, 'origin');
    if (origin !== undefined && origin !== new URL(c.req.url).origin) {
      throw new ApiError(403, 'CSRF_REJECTED', `a request from ${origin} cannot act with this center's session cookie`);
    }
  }
  return principal;
}

/** The session id of the request's cookie, if it has one. */
export function sessionCookie(c: Context<AppEnv>): string | undefined {
  const cookies = requestHeader(c, 'cookie');
  if (!cookies) return undefined;
  for (const part of cookies.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
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
