import { type Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
//
// Every list the API serves is newest first (id descending), one page at a time after `before`:
// each must be a seek in an index whose order is the list's, never a scan and sort. SQLite keeps
// the row id at the end of every index, so an index on the filter column alone reads the matching
// rows already in id order. Without these, a depositor's list sorted all of its registrations
// for each page, and a filtered events or alarms list read the table from the newest row down.
export async function up(db: Kysely<any>): Promise<void> {
  // A depositor's own registrations (the registration writer appends at the end of each
  // registrant's range: cheap on insert).
  await db.schema.createIndex('registration_registrant').on('registration').column('registrant_id').execute();
  // Events of one object, of one type, of one outcome, or of one type and outcome: equality on
  // every column of the index, so its rows come in id order.
  await db.schema.createIndex('preservation_event_object_id').on('preservation_event').column('object_id').execute();
  await db.schema.createIndex('preservation_event_type').on('preservation_event').column('event_type').execute();
  await db.schema.createIndex('preservation_event_outcome').on('preservation_event').column('outcome').execute();
  await db.schema.createIndex('preservation_event_type_outcome').on('preservation_event').columns(['event_type', 'outcome']).execute();
  // The periods not yet sealed (the backup status counts their registrations).
  await db.schema.createIndex('period_status').on('period').column('status').execute();
  // Open alarms (cleared_at IS NULL) among however many cleared ones.
  await db.schema.createIndex('alarm_cleared').on('alarm').column('cleared_at').execute();
  // The newest blobs of the backup status.
  await db.schema.createIndex('vault_blob_created').on('vault_blob').column('created_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const name of ['registration_registrant', 'preservation_event_object_id', 'preservation_event_type', 'preservation_event_outcome', 'preservation_event_type_outcome', 'period_status', 'alarm_cleared', 'vault_blob_created']) {
    await db.schema.dropIndex(name).execute();
  }
}
