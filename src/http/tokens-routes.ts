import { Hono } from 'hono';
import { parsePositiveId } from '../core/positive-id.js';
import { issueToken, type TokenAuthenticator, type TokenRequest } from '../registry/access-tokens.js';
import { RegistryError } from '../registry/registry-error.js';
import type { Role } from '../store/database.js';
import type { Store } from '../store/store.js';
import type { AppEnv } from './app-env.js';
import { requireRole } from './auth.js';
import { readJsonBody } from './request-body.js';

const USAGE =
  'send { "name": "…", "role": "admin" | "registrar" | "depositor", "pseudonymous": false } for a new account, or { "accountId": N } for another token of account N';

/**
 * `/v1/tokens`: an admin issues bearer tokens (the token is shown once). A name always makes a
 * new account (names are not unique); an existing account is named by its id alone.
 */
export function tokenRoutes(deps: { store: Store; tokens: TokenAuthenticator }) {
  return new Hono<AppEnv>().post('/', requireRole(deps.tokens, 'admin'), async (c) => {
    const issued = issueToken(deps.store, parseTokenRequest(await readJsonBody(c, 16 * 1024)));
    return c.json({ token: issued.token, account: issued.principal }, 201);
  });
}

function parseTokenRequest(body: unknown): TokenRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new RegistryError('INVALID_INPUT', USAGE);
  const { accountId, name, role, pseudonymous, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) throw new RegistryError('INVALID_INPUT', `${unknown} is not a token field; ${USAGE}`);
  if (accountId !== undefined) {
    if (name !== undefined || role !== undefined || pseudonymous !== undefined) {
      throw new RegistryError('INVALID_INPUT', 'accountId names an existing account: its name, role and pseudonymity stay as they are; send accountId alone');
    }
    const id = typeof accountId === 'number' ? parsePositiveId(String(accountId)) : undefined;
    if (id === undefined) throw new RegistryError('INVALID_INPUT', 'accountId must be an account id (a positive integer)');
    return { accountId: id };
  }
  if (typeof name !== 'string' || typeof role !== 'string') throw new RegistryError('INVALID_INPUT', USAGE);
  if (pseudonymous !== undefined && typeof pseudonymous !== 'boolean') throw new RegistryError('INVALID_INPUT', 'pseudonymous must be true or false');
  return { name, role: role as Role, pseudonymous: pseudonymous ?? false };
}
