import { Hono } from 'hono';
import type { PeriodSealer } from '../registry/period-sealer.js';
import { RegistryError } from '../registry/registry-error.js';
import type { AnchorRow, PeriodRow } from '../store/database.js';
import { findPeriodTimestamp, listAnchors } from '../store/anchors-repository.js';
import type { AnchoringService } from '../anchor/anchoring-service.js';
import { findPeriod, listPeriods } from '../store/periods-repository.js';
import type { Store } from '../store/store.js';
import type { TokenAuthenticator } from '../people/access-tokens.js';
import type { EvidenceRecord } from '../core/evidence-renewal.js';
import { periodEvidence } from '../registry/period-evidence.js';
import type { AppEnv } from './app-env.js';
import { parseId, parseLimit, requirePermission } from './auth.js';

/** One anchoring of a period on a chain, as the API shows it. */
export interface AnchorView {
  chain: string;
  chainId: number;
  contract: string;
  /** sending, sent (mined or not, too few confirmations), confirmed, failed, reorged. */
  status: AnchorRow['status'];
  txHash: string | null;
  blockNumber: number | null;
  blockHash: string | null;
  blockTime: string | null;
  confirmations: number;
  lastError: string | null;
}

/** A period as anyone may see it: roots, timestamps and anchors are public. */
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
  /** The RFC 3161 token over the root (DER, base64), once obtained. */
  timestamp: { genTime: string; tsa: string; serial: string; authority: string; token: string } | null;
  /** The timestamp's renewals (RFC 4998 style; README, Formats), the same object certificates carry beside their content; null before the first. */
  evidence: EvidenceRecord | null;
  /** Every attempt on every chain, oldest first (reorged and failed ones stay visible). */
  anchors: AnchorView[];
  /** True when every configured chain holds the root with enough confirmations. */
  anchored: boolean;
}

/** The public view of a period, with its timestamp and anchors. */
export function toPeriodView(store: Store, row: PeriodRow, chainNames: readonly string[]): PeriodView {
  const ts = findPeriodTimestamp(store, row.id);
  const anchors = listAnchors(store, row.id);
  return {
    id: row.id,
    status: row.status,
    openedAt: row.opened_at,
    closedAt: row.closed_at,
    sealedAt: row.sealed_at,
    leafCount: row.leaf_count,
    root: row.root?.toString('hex') ?? null,
    previousRoot: row.previous_root?.toString('hex') ?? null,
    timestamp: ts
      ? { genTime: ts.gen_time, tsa: ts.tsa, serial: ts.serial, authority: ts.authority, token: ts.token.toString('base64') }
      : null,
    evidence: (row.root && periodEvidence(store, row.id, row.root.toString('hex'))) || null,
    anchors: anchors.map((a) => ({
      chain: a.chain,
      chainId: a.chain_id,
      contract: a.contract,
      status: a.status,
      txHash: a.tx_hash,
      blockNumber: a.block_number,
      blockHash: a.block_hash,
      blockTime: a.block_time,
      confirmations: a.confirmations,
      lastError: a.last_error,
    })),
    anchored:
      row.root !== null &&
      chainNames.length > 0 &&
      chainNames.every((name) => anchors.some((a) => a.chain === name && a.status === 'confirmed')),
  };
}

/** `/v1/periods`: public list and detail; sealing on demand for staff. */
export function periodRoutes(deps: { store: Store; tokens: TokenAuthenticator; sealer: PeriodSealer; anchoring: AnchoringService }) {
  const { store, sealer } = deps;
  const chainNames = deps.anchoring.configuredChains.map((c) => c.settings.name);
  const view = (row: PeriodRow) => toPeriodView(store, row, chainNames);
  return new Hono<AppEnv>()
    .get('/', (c) => {
      const limit = parseLimit(c.req.query('limit'), 100);
      const before = c.req.query('before');
      const rows = listPeriods(store, { limit, ...(before !== undefined && { before: parseId(before, 'before') }) });
      return c.json({ periods: rows.map(view) });
    })
    .post('/seal', requirePermission(deps.tokens, 'periods.seal'), async (c) => {
      const period = await sealer.seal({ allowEmpty: false });
      return c.json(view(period), 201);
    })
    .get('/:id', (c) => {
      const id = parseId(c.req.param('id'), 'period');
      const row = findPeriod(store, id);
      if (!row) throw new RegistryError('NOT_FOUND', `no period ${id}`);
      return c.json(view(row));
    });
}
