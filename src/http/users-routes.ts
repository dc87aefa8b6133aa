import { Hono } from 'hono';
import type { TokenAuthenticator } from '../people/access-tokens.js';
import type { UserService } from '../people/user-service.js';
import type { AppEnv } from './app-env.js';
import { parseId, parseLimit, requirePermission } from './auth.js';
import { readJsonBody } from './request-body.js';

const MAX_BODY = 16 * 1024;

/** `/v1/users`: named users; who may make or change whom is src/people/permissions.ts. */
export function userRoutes(deps: { tokens: TokenAuthenticator; users: UserService }) {
  const { users, tokens } = deps;
  return new Hono<AppEnv>()
    .post('/', requirePermission(tokens, 'users.create'), async (c) => c.json(await users.create(c.get('principal'), await readJsonBody(c, MAX_BODY)), 201))
    .get('/', requirePermission(tokens, 'users.read'), (c) => {
      const after = c.req.query('after');
      const unit = c.req.query('unit');
      return c.json({
        users: users.list(c.get('principal'), {
          limit: parseLimit(c.req.query('limit'), 100),
          ...(after !== undefined && { after: parseId(after, 'after') }),
          ...(unit !== undefined && { unitId: parseId(unit, 'unit') }),
        }),
      });
    })
    // Any signed-in user may change its own name and password; the service asks the rest.
    .patch('/:id', requirePermission(tokens), async (c) => c.json(await users.update(c.get('principal'), parseId(c.req.param('id'), 'user'), await readJsonBody(c, MAX_BODY))));
}
