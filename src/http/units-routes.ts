import { Hono } from 'hono';
import type { TokenAuthenticator } from '../people/access-tokens.js';
import type { UnitService } from '../people/unit-service.js';
import type { AppEnv } from './app-env.js';
import { parseId, parseLimit, requirePermission } from './auth.js';
import { readJsonBody } from './request-body.js';

const MAX_BODY = 16 * 1024;

/** `/v1/units`: staff create, edit and suspend units; everyone reads those it may see. */
export function unitRoutes(deps: { tokens: TokenAuthenticator; units: UnitService }) {
  const { units, tokens } = deps;
  return new Hono<AppEnv>()
    .post('/', requirePermission(tokens, 'units.create'), async (c) => c.json(units.create(c.get('principal'), await readJsonBody(c, MAX_BODY)), 201))
    .get('/', requirePermission(tokens, 'units.read'), (c) => {
      const after = c.req.query('after');
      return c.json({ units: units.list(c.get('principal'), { limit: parseLimit(c.req.query('limit'), 100), ...(after !== undefined && { after: parseId(after, 'after') }) }) });
    })
    .get('/:id', requirePermission(tokens, 'units.read'), (c) => c.json(units.get(c.get('principal'), parseId(c.req.param('id'), 'unit'))))
    .patch('/:id', requirePermission(tokens, 'units.update'), async (c) =>
      c.json(units.update(c.get('principal'), parseId(c.req.param('id'), 'unit'), await readJsonBody(c, MAX_BODY))),
    )
    .post('/:id/suspend', requirePermission(tokens, 'units.update'), (c) => c.json(units.setSuspended(c.get('principal'), parseId(c.req.param('id'), 'unit'), true)))
    .post('/:id/reinstate', requirePermission(tokens, 'units.update'), (c) => c.json(units.setSuspended(c.get('principal'), parseId(c.req.param('id'), 'unit'), false)));
}
