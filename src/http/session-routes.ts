import { Hono, type Context } from 'hono';
import { setCookie, deleteCookie } from 'hono/cookie';
import type { TokenAuthenticator } from '../people/access-tokens.js';
import type { SessionService } from '../people/session-service.js';
import { SESSION_MS } from '../people/session-service.js';
import type { AppEnv } from './app-env.js';
import { requirePermission, SESSION_COOKIE, sessionCookie } from './auth.js';
import { readJsonBody } from './request-body.js';

/**
 * `/v1/session`: sign in (`POST`, username and password: sets the session cookie), who am I
 * (`GET`), sign out (`DELETE`: the cookie no longer opens anything, even if replayed).
 */
export function sessionRoutes(deps: { tokens: TokenAuthenticator; sessions: SessionService }) {
  return new Hono<AppEnv>()
    .post('/', async (c) => {
      const started = await deps.sessions.login(await readJsonBody(c, 4 * 1024));
      setCookie(c, SESSION_COOKIE, started.sessionId, {
        httpOnly: true,
        sameSite: 'Strict',
        secure: overTls(c),
        path: '/',
        maxAge: Math.floor(SESSION_MS / 1000),
      });
      return c.json({ user: started.principal, expiresAt: started.expiresAt }, 201);
    })
    .get('/', requirePermission(deps.tokens), (c) => c.json({ user: c.get('principal') }))
    .delete('/', requirePermission(deps.tokens), (c) => {
      const id = sessionCookie(c);
      if (id !== undefined) deps.sessions.logout(id);
      deleteCookie(c, SESSION_COOKIE, { path: '/', secure: overTls(c) });
      return c.body(null, 204);
    });
}

/** True when the request came over TLS (the cookie is then Secure: never sent in clear). */
function overTls(c: Context<AppEnv>): boolean {
  const socket = c.env?.incoming?.socket as { encrypted?: boolean } | undefined;
  return socket?.encrypted === true || new URL(c.req.url).protocol === 'https:';
}
