import { Hono } from 'hono';
import type { TokenAuthenticator } from '../people/access-tokens.js';
import { can } from '../people/permissions.js';
import type { TokenService } from '../people/token-service.js';
import type { AppEnv } from './app-env.js';
import { parseId, parseLimit, requirePermission } from './auth.js';
import { readJsonBody } from './request-body.js';

/**
 * `/v1/tokens`: issue (the token is shown once), list (one's own; admins and auditors every
 * token, or theirs with `?mine=true`) and revoke. A name always makes a new account (names are not unique); an existing
 * account is named by its id alone.
 */
export function tokenRoutes(deps: { tokens: TokenAuthenticator; tokenService: TokenService }) {
  const { tokens, tokenService } = deps;
  return new Hono<AppEnv>()
    .post('/', requirePermission(tokens), async (c) => {
      const issued = tokenService.issue(c.get('principal'), await readJsonBody(c, 16 * 1024));
      return c.json({ token: issued.token, id: issued.tokenId, expiresAt: issued.expiresAt, account: issued.account, user: issued.principal }, 201);
    })
    .get('/', requirePermission(tokens, 'tokens.list'), (c) => {
      const after = c.req.query('after');
      const mine = c.req.query('mine') === 'true' || c.req.query('mine') === '1';
      const all = !mine && can(c.get('principal'), 'tokens.list-all');
      return c.json({
        tokens: tokenService.list(c.get('principal'), { limit: parseLimit(c.req.query('limit'), 100), all, ...(after !== undefined && { after: parseId(after, 'after') }) }),
      });
    })
    .delete('/:id', requirePermission(tokens, 'tokens.revoke'), (c) => c.json(tokenService.revoke(c.get('principal'), parseId(c.req.param('id'), 'token'))));
}
