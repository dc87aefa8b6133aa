import type { Updateable } from 'kysely';
import type { Store } from './store.js';
import type { AnchorRow, AnchorTable, PeriodRow, PeriodTimestampRow } from './database.js';

/** Every anchor row of a period (all chains, all attempts), oldest first. */
export function listAnchors(store: Store, periodId: number): AnchorRow[] {
  return store.all(store.db.selectFrom('anchor').selectAll().where('period_id', '=', periodId).orderBy('id'));
}

/** The newest attempt of a period on a chain that is not `reorged` (it may be `failed`). */
export function findLiveAnchor(store: Store, periodId: number, chain: string): AnchorRow | undefined {
  return store.first(
    store.db
      .selectFrom('anchor')
      .selectAll()
      .where('period_id', '=', periodId)
      .where('chain', '=', chain)
      .where('status', '!=', 'reorged')
      .orderBy('id', 'desc')
      .limit(1),
  );
}

/**
 * The oldest sealed, rooted period that has no confirmed live anchor on `chain`: the next one
 * to work on. Periods are anchored strictly in order (the contract insists).
 */
export function findNextPeriodToAnchor(store: Store, chain: string): PeriodRow | undefined {
  return store.first(
    store.db
      .selectFrom('period')
      .selectAll()
      .where('status', '=', 'sealed')
      .where('root', 'is not', null)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('anchor')
              .select('anchor.id')
              .whereRef('anchor.period_id', '=', 'period.id')
              .where('anchor.chain', '=', chain)
              .where('anchor.status', '=', 'confirmed'),
          ),
        ),
      )
      .orderBy('id')
      .limit(1),
  );
}

/** Confirmed anchors on `chain`, newest first: the ones whose blocks are re-checked for reorgs. */
export function listConfirmedAnchors(store: Store, chain: string, limit: number): AnchorRow[] {
  return store.all(
    store.db
      .selectFrom('anchor')
      .selectAll()
      .where('chain', '=', chain)
      .where('status', '=', 'confirmed')
      .orderBy('period_id', 'desc')
      .limit(limit),
  );
}

export function insertAnchor(
  store: Store,
  anchor: { periodId: number; chain: string; chainId: number; contract: string; nonce: number | null; now: string },
): AnchorRow {
  const row = store.first(
    store.db
      .insertInto('anchor')
      .values({
        period_id: anchor.periodId,
        chain: anchor.chain,
        chain_id: anchor.chainId,
        contract: anchor.contract,
        status: 'sending',
        nonce: anchor.nonce,
        created_at: anchor.now,
        updated_at: anchor.now,
      })
      .returningAll(),
  );
  if (!row) throw new Error('insert returned no row');
  return row;
}

/** Updates an anchor row's fields; `updated_at` is set to `now`. */
export function updateAnchor(
  store: Store,
  id: number,
  // What an attempt learns as it goes; which period, chain and contract it is for never changes.
  fields: Omit<Updateable<AnchorTable>, 'id' | 'period_id' | 'chain' | 'chain_id' | 'contract' | 'created_at' | 'updated_at'>,
  now: string,
): void {
  store.run(store.db.updateTable('anchor').set({ ...fields, updated_at: now }).where('id', '=', id));
}

export function findPeriodTimestamp(store: Store, periodId: number): PeriodTimestampRow | undefined {
  return store.first(store.db.selectFrom('period_timestamp').selectAll().where('period_id', '=', periodId));
}

export function insertPeriodTimestamp(store: Store, row: PeriodTimestampRow): void {
  store.run(store.db.insertInto('period_timestamp').values(row).onConflict((oc) => oc.column('period_id').doNothing()));
}

/** Sealed, rooted periods that have no timestamp token yet, oldest first. */
export function findPeriodsWithoutTimestamp(store: Store): PeriodRow[] {
  return store.all(
    store.db
      .selectFrom('period')
      .selectAll()
      .where('status', '=', 'sealed')
      .where('root', 'is not', null)
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('period_timestamp').select('period_timestamp.period_id').whereRef('period_timestamp.period_id', '=', 'period.id'))),
      )
      .orderBy('id'),
  );
}
