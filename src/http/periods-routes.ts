import { Hono } from 'hono';
import type { PeriodSealer } from '../registry/period-sealer.js';
import { RegistryError } from '../registry/registry-error.js';
import type { PeriodRow } from '../store/database.js';
import { findPeriod, listPeriods } from '../store/periods-repository.js';
import type { Store } from '../store/store.js';
import type { TokenAuthenticator } from '../registry/access-tokens.js';
import type { AppEnv } from './app-env.js';
import { parseId, requireRole } from './auth.js';

/** A period as anyone may see it: roots are public. */
export interface PeriodView {
  id: number;
  status: PeriodRow['status'];
  openedAt: string;
  closedAt: string | null;
  sealedAt: string | null;
  leafCount: number;
  /** SHA-256 Merkle root, hex; null while open and for an empty period. */
  root: string | null;
  previousRoot: string | null;
}

export function toPeriodView(row: PeriodRow): PeriodView {
  return {
    id: row.id,
    status: row.status,
    openedAt: row.opened_at,
    closedAt: row.closed_at,
    sealedAt: row.sealed_at,
    leafCount: row.leaf_count,
    root: row.root?.toString('hex') ?? null,
    previousRoot: row.previous_root?.toString('hex') ?? null,
  };
}

/** `/v1/periods`: public list and detail; sealing on demand for staff. */
export function periodRoutes(deps: { store: Store; tokens: TokenAuthenticator; sealer: PeriodSealer }) {
  const { store, sealer } = deps;
  return new Hono<AppEnv>()
    .get('/', (c) => {
      const limit = Math.min(Number(c.req.query('limit') ?? 100) || 100, 1000);
      const before = c.req.query('before');
      const rows = listPeriods(store, { limit, ...(before !== undefined && { before: parseId(before, 'before') }) });
      return c.json({ periods: rows.map(toPeriodView) });
    })
    .post('/seal', requireRole(deps.tokens, 'admin', 'registrar'), async (c) => {
      const period = await sealer.seal({ allowEmpty: false });
      return c.json(toPeriodView(period), 201);
    })
    .get('/:id', (c) => {
      const id = parseId(c.req.param('id'), 'period');
      const row = findPeriod(store, id);
      if (!row) throw new RegistryError('NOT_FOUND', `no period ${id}`);
      return c.json(toPeriodView(row));
    });
}
