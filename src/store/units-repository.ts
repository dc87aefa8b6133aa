import type { Store } from './store.js';
import type { UnitKind, UnitRow } from './database.js';

export interface NewUnit {
  name: string;
  creditCode: string | null;
  kind: UnitKind | null;
  region: string | null;
  inTransferScope: boolean;
  digitalArchiveRoom: boolean;
  contact: string | null;
  accountId: number;
  createdAt: string;
}

export function insertUnit(store: Store, unit: NewUnit): UnitRow {
  const row = store.first(
    store.db
      .insertInto('unit')
      .values({
        name: unit.name,
        credit_code: unit.creditCode,
        kind: unit.kind,
        region: unit.region,
        in_transfer_scope: unit.inTransferScope ? 1 : 0,
        digital_archive_room: unit.digitalArchiveRoom ? 1 : 0,
        contact: unit.contact,
        status: 'active',
        account_id: unit.accountId,
        created_at: unit.createdAt,
        updated_at: unit.createdAt,
      })
      .returningAll(),
  );
  if (!row) throw new Error('insert returned no row');
  return row;
}

export function findUnitById(store: Store, id: number): UnitRow | undefined {
  return store.first(store.db.selectFrom('unit').selectAll().where('id', '=', id));
}

export function findUnitByCreditCode(store: Store, creditCode: string): UnitRow | undefined {
  return store.first(store.db.selectFrom('unit').selectAll().where('credit_code', '=', creditCode));
}

/** Units by id, after `after` (ascending), optionally only one unit. */
export function listUnits(store: Store, options: { limit: number; after?: number; onlyId?: number }): UnitRow[] {
  let query = store.db.selectFrom('unit').selectAll().orderBy('id', 'asc').limit(options.limit);
  if (options.after !== undefined) query = query.where('id', '>', options.after);
  if (options.onlyId !== undefined) query = query.where('id', '=', options.onlyId);
  return store.all(query);
}

export type UnitChanges = Partial<{
  name: string;
  credit_code: string | null;
  kind: UnitKind | null;
  region: string | null;
  in_transfer_scope: number;
  digital_archive_room: number;
  contact: string | null;
  status: 'active' | 'suspended';
}>;

export function updateUnit(store: Store, id: number, changes: UnitChanges, updatedAt: string): UnitRow | undefined {
  return store.first(store.db.updateTable('unit').set({ ...changes, updated_at: updatedAt }).where('id', '=', id).returningAll());
}

/** Renames the account a unit registers as (new records name the unit by its new name). */
export function renameAccount(store: Store, accountId: number, name: string): void {
  store.run(store.db.updateTable('account').set({ name }).where('id', '=', accountId));
}
