import type { Store } from './store.js';
import type { AlarmRow, DownloadRow, PreservationEventRow, PreservationEventTable } from './database.js';
import type { Insertable } from 'kysely';

export function insertPreservationEvent(store: Store, event: Insertable<PreservationEventTable>): number {
  const row = store.first(store.db.insertInto('preservation_event').values(event).returning('id'));
  if (!row) throw new Error('insert returned no row');
  return row.id;
}

/** Newest first, with ids below `before`, filtered by type and object when given. */
export function listPreservationEvents(
  store: Store,
  options: { limit: number; before?: number; eventType?: string; objectId?: string; outcome?: string },
): PreservationEventRow[] {
  // Bounded from the top on the first page too: each page a seek (see the list-indexes migration).
  let q = store.db.selectFrom('preservation_event').selectAll().where('id', '<', options.before ?? Number.MAX_SAFE_INTEGER).orderBy('id', 'desc').limit(options.limit);
  if (options.eventType !== undefined) q = q.where('event_type', '=', options.eventType);
  if (options.objectId !== undefined) q = q.where('object_id', '=', options.objectId);
  if (options.outcome !== undefined) q = q.where('outcome', '=', options.outcome as PreservationEventRow['outcome']);
  return store.all(q);
}

/** Raises (or refreshes) the open alarm of `kind` about `subject`; true when it is new. */
export function raiseAlarm(store: Store, alarm: { kind: string; subject: string; message: string; at: string }): boolean {
  return store.transaction(() => {
    const open = store.first(
      store.db
        .selectFrom('alarm')
        .select('id')
        .where('kind', '=', alarm.kind)
        .where('subject', '=', alarm.subject)
        .where('cleared_at', 'is', null),
    );
    if (open) {
      store.run(
        store.db
          .updateTable('alarm')
          .set((eb) => ({ message: alarm.message, last_seen_at: alarm.at, count: eb('count', '+', 1) }))
          .where('id', '=', open.id),
      );
      return false;
    }
    store.run(
      store.db.insertInto('alarm').values({
        kind: alarm.kind,
        subject: alarm.subject,
        message: alarm.message,
        raised_at: alarm.at,
        last_seen_at: alarm.at,
        count: 1,
      }),
    );
    return true;
  });
}

/** Clears the open alarm of `kind` about `subject`; true when there was one. */
export function clearAlarm(store: Store, kind: string, subject: string, at: string): boolean {
  return (
    store.run(
      store.db.updateTable('alarm').set({ cleared_at: at }).where('kind', '=', kind).where('subject', '=', subject).where('cleared_at', 'is', null),
    ) > 0
  );
}

/**
 * Newest first, with ids below `before` when given: the open alarms only (read through the index
 * on `cleared_at`), or cleared ones too.
 */
export function listAlarms(store: Store, options: { limit: number; includeCleared: boolean; before?: number }): AlarmRow[] {
  let q = store.db.selectFrom('alarm').selectAll().where('id', '<', options.before ?? Number.MAX_SAFE_INTEGER).orderBy('id', 'desc').limit(options.limit);
  if (!options.includeCleared) q = q.where('cleared_at', 'is', null);
  return store.all(q);
}

export function insertDownload(store: Store, download: { registrationId: number; accountId: number; at: string }): number {
  const row = store.first(
    store.db
      .insertInto('download')
      .values({ registration_id: download.registrationId, account_id: download.accountId, started_at: download.at, outcome: 'started' })
      .returning('id'),
  );
  if (!row) throw new Error('insert returned no row');
  return row.id;
}

export function finishDownload(store: Store, id: number, outcome: DownloadRow['outcome'], bytes: number, at: string): void {
  store.run(store.db.updateTable('download').set({ outcome, bytes, finished_at: at }).where('id', '=', id));
}

/** The downloads of a registration, oldest first, `limit` of them with ids above `after` when given. */
export function listDownloads(store: Store, registrationId: number, options: { limit: number; after?: number }): DownloadRow[] {
  let q = store.db.selectFrom('download').selectAll().where('registration_id', '=', registrationId).orderBy('id').limit(options.limit);
  if (options.after !== undefined) q = q.where('id', '>', options.after);
  return store.all(q);
}
