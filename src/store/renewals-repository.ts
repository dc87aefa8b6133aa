import type { PeriodTimestampRenewalRow, PeriodTimestampRow } from './database.js';
import type { Store } from './store.js';

/** The renewals of a period's token, oldest first. */
export function listRenewals(store: Store, periodId: number): PeriodTimestampRenewalRow[] {
  return store.all(store.db.selectFrom('period_timestamp_renewal').selectAll().where('period_id', '=', periodId).orderBy('seq'));
}

/** Adds renewal `row.seq` of its period; false (and nothing written) when that link exists already. */
export function insertRenewal(store: Store, row: PeriodTimestampRenewalRow): boolean {
  return store.run(store.db.insertInto('period_timestamp_renewal').values(row).onConflict((oc) => oc.columns(['period_id', 'seq']).doNothing())) === 1;
}

/** Each timestamped period with its root and the last link of its chain (its token, or its newest renewal). */
export function listLastLinks(store: Store): { periodId: number; root: Buffer; seq: number; token: Buffer; genTime: string }[] {
  const stamps: PeriodTimestampRow[] = store.all(store.db.selectFrom('period_timestamp').selectAll().orderBy('period_id'));
  const roots = new Map(
    store
      .all(store.db.selectFrom('period').select(['id', 'root']).where('root', 'is not', null))
      .map((p) => [p.id, p.root as Buffer]),
  );
  const newest = new Map<number, PeriodTimestampRenewalRow>();
  for (const r of store.all(store.db.selectFrom('period_timestamp_renewal').selectAll().orderBy('period_id').orderBy('seq'))) newest.set(r.period_id, r);
  return stamps.flatMap((t) => {
    const root = roots.get(t.period_id);
    if (!root) return [];
    const last = newest.get(t.period_id);
    return [{ periodId: t.period_id, root, seq: last?.seq ?? 0, token: last?.token ?? t.token, genTime: last?.gen_time ?? t.gen_time }];
  });
}
