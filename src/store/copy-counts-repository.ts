import type { CopyCountRow } from './database.js';
import type { Store } from './store.js';

/** The kinds whose verified copies are counted against the minimum. */
export type CountedKind = 'blob' | 'period';

/** Where a below-minimum listing stopped: the last object given (the listing's order is kind, copies, newest first). */
export interface CopyCountCursor {
  kind: CountedKind;
  copies: number;
  createdAt: string;
  object: string;
}

/**
 * Counts the verified copies of one blob or sealed period again and keeps `copy_count` and
 * `copy_count_total` in step: call it (inside the same transaction) after every change to a
 * replica row of the object, to its local copy, or to its existence. A blob no longer in the
 * vault, or a period not (or no longer) sealed, is taken out of the counts.
 */
export function refreshCopyCount(store: Store, kind: CountedKind, object: string): void {
  store.transaction(() => {
    const local = localCopy(store, kind, object);
    // Number(): PostgreSQL's bigint comes back as a string.
    const found = store.first(store.db.selectFrom('copy_count').select(['copies', 'created_at']).where('kind', '=', kind).where('object', '=', object));
    const before = found && { copies: Number(found.copies), created_at: found.created_at };
    if (!local) {
      if (!before) return;
      store.run(store.db.deleteFrom('copy_count').where('kind', '=', kind).where('object', '=', object));
      addToTotal(store, kind, before.copies, -1);
      return;
    }
    // Every peer's row of the object through the key, counted here: a filter on `status` in the
    // query let SQLite walk the index of every verified copy instead.
    const remote = store
      .all(store.db.selectFrom('replica').select(['status', 'audit_outcome']).where('kind', '=', kind).where('object', '=', object))
      .filter(countsAsVerified).length;
    const copies = local.copies + remote;
    if (before && before.copies === copies && before.created_at === local.createdAt) return;
    store.run(
      store.db
        .insertInto('copy_count')
        .values({ kind, object, copies, created_at: local.createdAt })
        .onConflict((oc) => oc.columns(['kind', 'object']).doUpdateSet({ copies, created_at: local.createdAt })),
    );
    if (before?.copies === copies) return;
    if (before) addToTotal(store, kind, before.copies, -1);
    addToTotal(store, kind, copies, 1);
  });
}

/** A peer's copy that counts: confirmed, and not left unchecked since by a challenge its peer did not answer (the copy may be gone with its peer). */
export function countsAsVerified(r: { status: string; audit_outcome: string | null }): boolean {
  return r.status === 'verified' && r.audit_outcome !== 'unreachable';
}

/** The object's own copy here: 1 for a blob whose file is ok or a sealed period, 0 for a damaged or missing blob; undefined when not counted. */
function localCopy(store: Store, kind: CountedKind, object: string): { copies: number; createdAt: string } | undefined {
  if (kind === 'blob') {
    if (!/^[0-9a-f]{64}$/.test(object)) return undefined;
    const blob = store.first(store.db.selectFrom('vault_blob').select(['status', 'created_at']).where('sha256', '=', Buffer.from(object, 'hex')));
    return blob && { copies: blob.status === 'ok' ? 1 : 0, createdAt: blob.created_at };
  }
  if (!/^[1-9]\d{0,15}$/.test(object)) return undefined;
  const period = store.first(store.db.selectFrom('period').select(['status', 'sealed_at']).where('id', '=', Number(object)));
  return period?.status === 'sealed' ? { copies: 1, createdAt: period.sealed_at ?? '' } : undefined;
}

function addToTotal(store: Store, kind: CountedKind, copies: number, delta: number): void {
  store.run(
    store.db
      .insertInto('copy_count_total')
      .values({ kind, copies, objects: delta })
      .onConflict((oc) => oc.columns(['kind', 'copies']).doUpdateSet((eb) => ({ objects: eb('copy_count_total.objects', '+', delta) }))),
  );
}

/** How many objects of `kind` there are, and how many have fewer than `minCopies` verified copies. */
export function countCopies(store: Store, kind: CountedKind, minCopies: number): { total: number; belowMinimum: number } {
  const rows = store.all(store.db.selectFrom('copy_count_total').select(['copies', 'objects']).where('kind', '=', kind));
  let total = 0;
  let belowMinimum = 0;
  for (const r of rows) {
    total += Number(r.objects);
    if (Number(r.copies) < minCopies) belowMinimum += Number(r.objects);
  }
  return { total, belowMinimum };
}

/**
 * Objects with fewer than `minCopies` verified copies, after `after`: blobs before periods, the
 * fewest copies first, newest first among equals. Each count is one seek in `copy_count_list`,
 * so a page costs the same however many objects there are or how deep it is.
 */
export function listBelowMinimum(store: Store, options: { kinds: readonly CountedKind[]; minCopies: number; limit: number; after?: CopyCountCursor }): CopyCountRow[] {
  const rows: CopyCountRow[] = [];
  const { after } = options;
  const kinds = after ? options.kinds.slice(Math.max(0, options.kinds.indexOf(after.kind))) : options.kinds;
  for (const kind of kinds) {
    const from = after && after.kind === kind ? after.copies : 0;
    for (let copies = from; copies < options.minCopies && rows.length < options.limit; copies++) {
      let query = store.db
        .selectFrom('copy_count')
        .selectAll()
        .where('kind', '=', kind)
        .where('copies', '=', copies)
        .orderBy('created_at', 'desc')
        .orderBy('object', 'desc')
        .limit(options.limit - rows.length);
      if (after && after.kind === kind && after.copies === copies) {
        // The range on created_at is what seeks; the OR only steps over the ties at the cursor.
        const { createdAt, object } = after;
        query = query.where('created_at', '<=', createdAt).where((eb) => eb.or([eb('created_at', '<', createdAt), eb('object', '<', object)]));
      }
      rows.push(...store.all(query).map((r) => ({ ...r, copies: Number(r.copies) })));
    }
    if (rows.length >= options.limit) break;
  }
  return rows;
}
