import type { Store } from './store.js';
import type { AccountRow, AnchorRow, PeriodRow, PeriodTimestampRow, RegistrationRow } from './database.js';
import { findAccountById } from './accounts-repository.js';
import { refreshCopyCount } from './copy-counts-repository.js';
import { insertRegistration } from './registrations-repository.js';
import { insertTreeLevels } from './tree-repository.js';

/**
 * Writes a sealed period rebuilt from a peer's bundle into an empty registry, with the same ids
 * as at the center that made it (registrations, accounts, periods and anchors keep theirs, so
 * old proofs and certificates still name the right rows). Call inside a transaction.
 */
export function insertRestoredPeriod(
  store: Store,
  restored: {
    period: PeriodRow;
    accounts: AccountRow[];
    registrations: RegistrationRow[];
    levels: readonly Buffer[];
    timestamps: PeriodTimestampRow[];
    anchors: AnchorRow[];
  },
): void {
  insertAccounts(store, restored.accounts);
  store.run(store.db.insertInto('period').values(restored.period));
  for (const row of restored.registrations) insertRegistration(store, row);
  if (restored.levels.length > 0) insertTreeLevels(store, restored.period.id, restored.levels);
  for (const t of restored.timestamps) store.run(store.db.insertInto('period_timestamp').values(t));
  for (const a of restored.anchors) store.run(store.db.insertInto('anchor').values(a));
  refreshCopyCount(store, 'period', String(restored.period.id));
}

/**
 * Writes a period not yet sealed (open, or closed and waiting for its seal) with the
 * registrations a peer's journal segments held. Call inside a transaction.
 */
export function insertRestoredRegistrations(
  store: Store,
  restored: { period: PeriodRow; accounts: AccountRow[]; registrations: RegistrationRow[] },
): void {
  insertAccounts(store, restored.accounts);
  store.run(store.db.insertInto('period').values(restored.period));
  for (const row of restored.registrations) insertRegistration(store, row);
}

/** True when the registry holds no period and no registration (a fresh data directory). */
export function registryIsEmpty(store: Store): boolean {
  return (store.prepare('SELECT (SELECT count(*) FROM period) + (SELECT count(*) FROM registration)').pluck().get() as number) === 0;
}

function insertAccounts(store: Store, accounts: AccountRow[]): void {
  for (const account of accounts) {
    const existing = findAccountById(store, account.id);
    if (existing) {
      if (existing.name !== account.name) throw new Error(`account ${account.id} is "${existing.name}" here and "${account.name}" in the bundle`);
      continue;
    }
    store.run(store.db.insertInto('account').values(account));
  }
}
