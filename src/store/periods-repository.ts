import type { Store } from './store.js';
import type { PeriodRow } from './database.js';
import { refreshCopyCount } from './copy-counts-repository.js';

/** One period by id (a prepared statement: read on every proof look-up). */
export function findPeriod(store: Store, id: number): PeriodRow | undefined {
  return store.prepare('SELECT * FROM period WHERE id = ?').get(id) as PeriodRow | undefined;
}

/** The one period taking registrations, if any. */
export function findOpenPeriod(store: Store): PeriodRow | undefined {
  return store.first(store.db.selectFrom('period').selectAll().where('status', '=', 'open'));
}

/** Periods closed to registrations whose tree is not yet stored, oldest first. */
export function findSealingPeriods(store: Store): PeriodRow[] {
  return store.all(store.db.selectFrom('period').selectAll().where('status', '=', 'sealing').orderBy('id'));
}

/** Newest first, `limit` of them, with ids below `before` when given. */
export function listPeriods(store: Store, options: { limit: number; before?: number }): PeriodRow[] {
  // Bounded from the top on the first page too: a seek on the id, as every later page.
  return store.all(store.db.selectFrom('period').selectAll().where('id', '<', options.before ?? Number.MAX_SAFE_INTEGER).orderBy('id', 'desc').limit(options.limit));
}

export function insertOpenPeriod(store: Store, openedAt: string): PeriodRow {
  const row = store.first(
    store.db.insertInto('period').values({ status: 'open', opened_at: openedAt, leaf_count: 0 }).returningAll(),
  );
  if (!row) throw new Error('insert returned no row');
  return row;
}

/** Stops a period taking registrations; its tree is built next. */
export function markPeriodSealing(store: Store, id: number, closedAt: string): void {
  store.run(
    store.db.updateTable('period').set({ status: 'sealing', closed_at: closedAt }).where('id', '=', id).where('status', '=', 'open'),
  );
}

export function markPeriodSealed(
  store: Store,
  id: number,
  sealed: { sealedAt: string; root: Buffer | null; previousRoot: Buffer | null },
): void {
  store.transaction(() => {
    store.run(
      store.db
        .updateTable('period')
        .set({ status: 'sealed', sealed_at: sealed.sealedAt, root: sealed.root, previous_root: sealed.previousRoot })
        .where('id', '=', id)
        .where('status', '=', 'sealing'),
    );
    refreshCopyCount(store, 'period', String(id));
  });
}

/** The root of the newest sealed, non-empty period with an id below `beforeId`. */
export function findLastRootBefore(store: Store, beforeId: number): Buffer | undefined {
  return (
    store.first(
      store.db
        .selectFrom('period')
        .select('root')
        .where('status', '=', 'sealed')
        .where('root', 'is not', null)
        .where('id', '<', beforeId)
        .orderBy('id', 'desc')
        .limit(1),
    )?.root ?? undefined
  );
}
