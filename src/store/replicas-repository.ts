import type { Store } from './store.js';
import type { HeldCopyRow, ReplicaKind, ReplicaRow, ReplicaState, ReplicaStatus } from './database.js';
import { refreshCopyCount } from './copy-counts-repository.js';

type ReplicaKey = { kind: ReplicaKind; object: string; peer: string };

/** The row's state as `replica_total` counts it; undefined when there is no row. */
function stateOf(store: Store, key: ReplicaKey): ReplicaState | undefined {
  const row = store.first(
    store.db.selectFrom('replica').select(['status', 'audit_outcome']).where('kind', '=', key.kind).where('object', '=', key.object).where('peer', '=', key.peer),
  );
  return row && (row.status === 'verified' && row.audit_outcome === 'unreachable' ? 'unreachable' : row.status);
}

function addToReplicaTotal(store: Store, peer: string, kind: ReplicaKind, state: ReplicaState, delta: number): void {
  if (delta === 0) return;
  store.run(
    store.db
      .insertInto('replica_total')
      .values({ peer, kind, state, replicas: delta })
      .onConflict((oc) => oc.columns(['peer', 'kind', 'state']).doUpdateSet((eb) => ({ replicas: eb('replica_total.replicas', '+', delta) }))),
  );
}

/**
 * Changes one replica row with `change` and keeps, in the same transaction, the peer's totals
 * (`replica_total`) and the object's verified-copy count (`copy_count`) in step with it.
 */
function changeReplica(store: Store, key: ReplicaKey, change: () => void): void {
  store.transaction(() => {
    const before = stateOf(store, key);
    change();
    const after = stateOf(store, key);
    if (before === after) return;
    if (before) addToReplicaTotal(store, key.peer, key.kind, before, -1);
    if (after) addToReplicaTotal(store, key.peer, key.kind, after, 1);
    if (key.kind === 'blob' || key.kind === 'period') refreshCopyCount(store, key.kind, key.object);
  });
}

/** A peer's replica rows by state: each kind's counts, from the kept totals. */
export function replicaTotalsOf(store: Store, peer: string): { kind: ReplicaKind; state: ReplicaState; replicas: number }[] {
  return store.all(store.db.selectFrom('replica_total').select(['kind', 'state', 'replicas']).where('peer', '=', peer)).map((r) => ({ ...r, replicas: Number(r.replicas) }));
}

/**
 * The journal segments `peer` confirmed holding. Read through the key's `kind` (the few segments
 * of periods not yet sealed): a filter on `status` let SQLite walk every verified copy instead.
 */
export function listVerifiedJournalKeys(store: Store, peer: string): string[] {
  return store
    .all(store.db.selectFrom('replica').select(['object', 'status']).where('kind', '=', 'journal').where('peer', '=', peer))
    .filter((r) => r.status === 'verified')
    .map((r) => r.object);
}

/** The newest send error of a copy at `peer` not yet verified (a confirmation clears it). */
export function lastReplicaError(store: Store, peer: string): string | null {
  return (
    store.first(
      store.db
        .selectFrom('replica')
        .select('last_error')
        .where('peer', '=', peer)
        .where('last_error', 'is not', null)
        .where('status', '!=', 'verified')
        .orderBy('next_attempt_at', 'desc')
        .limit(1),
    )?.last_error ?? null
  );
}

/** Adds a pending replica (the outbox entry) unless the object already has one at this peer. */
export function ensureReplica(store: Store, replica: { kind: ReplicaKind; object: string; peer: string; now: string }): boolean {
  return store.transaction(() => {
    const inserted =
      store.run(
      store.db
        .insertInto('replica')
        .values({
          kind: replica.kind,
          object: replica.object,
          peer: replica.peer,
          status: 'pending',
          next_attempt_at: replica.now,
          created_at: replica.now,
        })
        .onConflict((oc) => oc.columns(['kind', 'object', 'peer']).doNothing()),
      ) > 0;
    if (inserted) addToReplicaTotal(store, replica.peer, replica.kind, 'pending', 1);
    return inserted;
  });
}

/**
 * Outbox rows for `peer` of every blob stored after vault row `afterRowid` (at most `limit`
 * blobs), in one statement; rows already there stay as they are. Returns the last rowid
 * covered, or `afterRowid` when there was none.
 */
export function ensureBlobReplicasAfter(store: Store, peers: readonly string[], afterRowid: number, limit: number, now: string): number {
  const last = store
    .prepare('SELECT max(rowid) FROM (SELECT rowid FROM vault_blob WHERE rowid > ? ORDER BY rowid LIMIT ?) AS page')
    .pluck()
    .get(afterRowid, limit) as number | null;
  if (last === null) return afterRowid;
  const hex = store.engine === 'postgres' ? "encode(sha256, 'hex')" : 'lower(hex(sha256))';
  const insert = store.prepare(
    `INSERT INTO replica (kind, object, peer, status, next_attempt_at, created_at) SELECT 'blob', ${hex}, ?, 'pending', ?, ? ` +
      'FROM vault_blob WHERE rowid > ? AND rowid <= ? ON CONFLICT (kind, object, peer) DO NOTHING',
  );
  for (const peer of peers) addToReplicaTotal(store, peer, 'blob', 'pending', insert.run(peer, now, now, afterRowid, last).changes);
  return last;
}

/** Replicas waiting to be sent whose next attempt is due, oldest first. */
export function listDueReplicas(store: Store, peer: string, now: string, limit: number): ReplicaRow[] {
  return store.all(
    store.db
      .selectFrom('replica')
      .selectAll()
      .where('peer', '=', peer)
      .where('status', '!=', 'verified')
      .where('next_attempt_at', '<=', now)
      .orderBy('kind', 'desc') // periods before blobs: the registry is small and worth most
      .orderBy('next_attempt_at')
      .limit(limit),
  );
}

/** The peer confirmed holding exactly `confirmedHash`. */
export function markReplicaVerified(
  store: Store,
  key: { kind: ReplicaKind; object: string; peer: string },
  verified: { revision: string | null; confirmedHash: string; at: string; signature?: Buffer },
): void {
  changeReplica(store, key, () => {
    store.run(
      store.db
        .updateTable('replica')
        .set({
          status: 'verified',
          signature: verified.signature ?? null,
          revision: verified.revision,
          confirmed_hash: verified.confirmedHash,
          confirmed_at: verified.at,
          attempts: 0,
          last_error: null,
        })
        .where('kind', '=', key.kind)
        .where('object', '=', key.object)
        .where('peer', '=', key.peer),
    );
  });
}

/** Forgets a replica row (its object is gone here, or a newer copy replaces it). */
export function deleteReplica(store: Store, key: { kind: ReplicaKind; object: string; peer: string }): void {
  changeReplica(store, key, () => {
    store.run(store.db.deleteFrom('replica').where('kind', '=', key.kind).where('object', '=', key.object).where('peer', '=', key.peer));
  });
}

/** A send failed: try again at `nextAttemptAt`. */
export function markReplicaFailed(
  store: Store,
  key: { kind: ReplicaKind; object: string; peer: string },
  failure: { error: string; nextAttemptAt: string },
): void {
  store.run(
    store.db
      .updateTable('replica')
      .set((eb) => ({ attempts: eb('attempts', '+', 1), last_error: failure.error.slice(0, 500), next_attempt_at: failure.nextAttemptAt }))
      .where('kind', '=', key.kind)
      .where('object', '=', key.object)
      .where('peer', '=', key.peer),
  );
}

/**
 * The local ciphertext of blob `sha256` (hex) was replaced (the same content uploaded again, or a
 * peer's copy installed): every peer's confirmed copy is compared again and, if it differs,
 * replaced, instead of showing up in the next audit as a copy that does not match. Copies already
 * waiting (or found damaged or missing) keep their status.
 */
export function markBlobReplicasPending(store: Store, sha256: string, now: string): void {
  store.transaction(() => {
    const peers = store.all(store.db.selectFrom('replica').select('peer').where('kind', '=', 'blob').where('object', '=', sha256).where('status', '=', 'verified'));
    for (const { peer } of peers) {
      changeReplica(store, { kind: 'blob', object: sha256, peer }, () =>
        store.run(store.db.updateTable('replica').set({ status: 'pending', next_attempt_at: now, attempts: 0 }).where('kind', '=', 'blob').where('object', '=', sha256).where('peer', '=', peer)),
      );
    }
  });
}

/** The copy must be (re)sent now, e.g. found damaged or missing, or its bundle changed. */
export function markReplicaPending(
  store: Store,
  key: { kind: ReplicaKind; object: string; peer: string },
  status: Exclude<ReplicaStatus, 'verified'>,
  now: string,
): void {
  changeReplica(store, key, () => {
    store.run(
      store.db
        .updateTable('replica')
        .set({ status, next_attempt_at: now, attempts: 0 })
        .where('kind', '=', key.kind)
        .where('object', '=', key.object)
        .where('peer', '=', key.peer),
    );
  });
}

/** Records that the peer did not answer a challenge for this copy; `audited_at` keeps its last real audit. */
export function markReplicaUnreachable(store: Store, key: { kind: ReplicaKind; object: string; peer: string }): void {
  changeReplica(store, key, () => {
    store.run(store.db.updateTable('replica').set({ audit_outcome: 'unreachable' }).where('kind', '=', key.kind).where('object', '=', key.object).where('peer', '=', key.peer));
  });
}

export function markReplicaAudited(
  store: Store,
  key: { kind: ReplicaKind; object: string; peer: string },
  audit: { at: string; outcome: string },
): void {
  changeReplica(store, key, () => {
    store.run(
      store.db
        .updateTable('replica')
        .set({ audited_at: audit.at, audit_outcome: audit.outcome })
        .where('kind', '=', key.kind)
        .where('object', '=', key.object)
        .where('peer', '=', key.peer),
    );
  });
}

/** Verified copies audited longest ago (never audited first): every kind a recovery reads. */
export function listReplicasDueForAudit(store: Store, limit: number): ReplicaRow[] {
  return store.all(
    store.db
      .selectFrom('replica')
      .selectAll()
      .where('status', '=', 'verified')
      .orderBy((eb) => eb.fn.coalesce('audited_at', eb.val('')), 'asc')
      .orderBy('confirmed_at')
      .limit(limit),
  );
}

export function listReplicasOf(store: Store, kind: ReplicaKind, objects: readonly string[]): ReplicaRow[] {
  if (objects.length === 0) return [];
  return store.all(store.db.selectFrom('replica').selectAll().where('kind', '=', kind).where('object', 'in', objects as string[]));
}

/** Copies at peers, of every kind (each is audited). */
export function countReplicas(store: Store): number {
  return Number(store.first(store.db.selectFrom('replica').select((eb) => eb.fn.countAll<number>().as('n')))?.n ?? 0);
}

/** Drops the journal replicas of periods up to `periodId` at `peer` (its sealed bundle replaces them). */
export function deleteJournalReplicas(store: Store, peer: string, periodId: number): void {
  store.transaction(() => {
    const objects = store.all(store.db.selectFrom('replica').select('object').where('kind', '=', 'journal').where('peer', '=', peer));
    for (const { object } of objects) {
      if (Number(object.slice(0, object.indexOf(':'))) > periodId) continue;
      deleteReplica(store, { kind: 'journal', object, peer });
    }
  });
}

/** Forgets every peer's replica row of one object (the object is gone here). */
export function deleteReplicasOf(store: Store, kind: ReplicaKind, object: string): void {
  store.transaction(() => {
    for (const { peer } of store.all(store.db.selectFrom('replica').select('peer').where('kind', '=', kind).where('object', '=', object))) deleteReplica(store, { kind, object, peer });
  });
}

/** The period of a journal segment's object name (`<period>:<first>-<last>`). */
function journalPeriodOf(object: string): number {
  return Number.parseInt(object.slice(0, object.indexOf(':')), 10);
}

// Held copies: what this center keeps for its peers.

export function findHeldCopy(store: Store, origin: string, kind: ReplicaKind, object: string): HeldCopyRow | undefined {
  return store.first(
    store.db.selectFrom('held_copy').selectAll().where('origin', '=', origin).where('kind', '=', kind).where('object', '=', object),
  );
}

export function upsertHeldCopy(store: Store, row: HeldCopyRow): void {
  store.run(
    store.db
      .insertInto('held_copy')
      .values(row)
      .onConflict((oc) =>
        oc.columns(['origin', 'kind', 'object']).doUpdateSet({
          size: row.size,
          received: row.received,
          sha256: row.sha256,
          complete: row.complete,
          updated_at: row.updated_at,
        }),
      ),
  );
}

/** Forgets the journal segments held for `origin` of periods up to `periodId`; returns their objects. */
export function deleteHeldJournals(store: Store, origin: string, periodId: number): string[] {
  const held = store.prepare("SELECT object FROM held_copy WHERE origin = ? AND kind = 'journal'").pluck().all(origin) as string[];
  const objects = held.filter((o) => journalPeriodOf(o) <= periodId);
  if (objects.length > 0) store.run(store.db.deleteFrom('held_copy').where('origin', '=', origin).where('kind', '=', 'journal').where('object', 'in', objects));
  return objects;
}

export function deleteHeldCopy(store: Store, origin: string, kind: ReplicaKind, object: string): void {
  store.run(store.db.deleteFrom('held_copy').where('origin', '=', origin).where('kind', '=', kind).where('object', '=', object));
}

/**
 * Complete copies held for `origin`, of one kind, in object order (as text): all of them, or a
 * page of at most `limit` after object `after` (a seek in the key, however many are held).
 */
export function listHeldCopies(store: Store, origin: string, kind: ReplicaKind, page?: { limit: number; after?: string }): HeldCopyRow[] {
  let query = store.db.selectFrom('held_copy').selectAll().where('origin', '=', origin).where('kind', '=', kind).where('complete', '=', 1).orderBy('object');
  if (page?.after !== undefined) query = query.where('object', '>', page.after);
  if (page) query = query.limit(page.limit);
  return store.all(query);
}
