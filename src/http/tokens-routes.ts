import { Hono } from 'hono';
import { issueToken, type TokenAuthenticator } from '../registry/access-tokens.js';
import { RegistryError } from '../registry/registry-error.js';
import type { Role } from '../store/database.js';
import type { Store } from '../store/store.js';
import type { AppEnv } from './app-env.js';
import { requireRole } from './auth.js';
import { readJsonBody } from './request-body.js';

/** `/v1/tokens`: an admin issues bearer tokens (the token is shown once). */
export function tokenRoutes(deps: { store: Store; tokens: TokenAuthenticator }) {
  return new Hono<AppEnv>().post('/', requireRole(deps.tokens, 'admin'), async (c) => {
    const body = (await readJsonBody(c, 16 * 1024)) as { name?: unknown; role?: unknown; pseudonymous?: unknown } | null;
    if (typeof body?.name !== 'string' || typeof body.role !== 'string') {
      throw new RegistryError('INVALID_INPUT', 'send { "name": "…", "role": "admin" | "registrar" | "depositor" }');
    }
    const issued = issueToken(deps.store, {
      name: body.name,
      role: body.role as Role,
      pseudonymous: body.pseudonymous === true,
    });
    return c.json({ token: issued.token, account: issued.principal }, 201);
  });
}
