import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
export async function up(db: Kysely<any>): Promise<void> {
  // The encrypted originals this center keeps, by the SHA-256 of their plaintext.
  await db.schema
    .createTable('vault_blob')
    .addColumn('sha256', 'blob', (c) => c.primaryKey())
    .addColumn('sm3', 'blob', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('cipher_size', 'integer', (c) => c.notNull())
    /** SHA-256 of the encrypted file: what a peer must hold byte for byte. */
    .addColumn('cipher_sha256', 'blob')
    /** The data key, wrapped by the master key (also in the file's header). */
    .addColumn('wrapped_key', 'blob', (c) => c.notNull())
    .addColumn('master_key_id', 'text', (c) => c.notNull())
    /** ok | damaged | missing: the local copy as the last check found it. */
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('checked_at', 'text')
    .execute();

  // One row per object (blob or sealed period's bundle) per peer: the outbox and the copy count.
  await db.schema
    .createTable('replica')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('object', 'text', (c) => c.notNull())
    .addColumn('peer', 'text', (c) => c.notNull())
    /** pending | verified | damaged | missing */
    .addColumn('status', 'text', (c) => c.notNull())
    /** What the peer should hold: the blob's ciphertext SHA-256, or the bundle's revision. */
    .addColumn('revision', 'text')
    /** SHA-256 (hex) of the bytes the peer confirmed holding. */
    .addColumn('confirmed_hash', 'text')
    .addColumn('confirmed_at', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('audited_at', 'text')
    .addColumn('audit_outcome', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('replica_pk', ['kind', 'object', 'peer'])
    .execute();
  await db.schema.createIndex('replica_due').on('replica').columns(['status', 'next_attempt_at']).execute();

  // What this center holds for its peers (their encrypted blobs and signed period bundles).
  await db.schema
    .createTable('held_copy')
    .addColumn('origin', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('object', 'text', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('received', 'integer', (c) => c.notNull())
    .addColumn('sha256', 'text')
    .addColumn('complete', 'integer', (c) => c.notNull())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('held_copy_pk', ['origin', 'kind', 'object'])
    .execute();

  // PREMIS-style preservation events (PREMIS 3.0 §2.4: type, date-time, object, agent, outcome).
  await db.schema
    .createTable('preservation_event')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('event_at', 'text', (c) => c.notNull())
    .addColumn('object_kind', 'text', (c) => c.notNull())
    .addColumn('object_id', 'text', (c) => c.notNull())
    /** Which copy: `local`, a peer's id, or null for the object as a whole. */
    .addColumn('copy', 'text')
    .addColumn('agent', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('detail', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('preservation_event_object').on('preservation_event').columns(['object_kind', 'object_id']).execute();

  // Conditions staff must act on; one open alarm per kind and subject.
  await db.schema
    .createTable('alarm')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('raised_at', 'text', (c) => c.notNull())
    .addColumn('last_seen_at', 'text', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addColumn('cleared_at', 'text')
    .execute();
  await db.schema.createIndex('alarm_kind_subject').on('alarm').columns(['kind', 'subject', 'cleared_at']).execute();

  // Every download of an original: who, when, which registration, and how it ended.
  await db.schema
    .createTable('download')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('registration_id', 'integer', (c) => c.notNull())
    .addColumn('account_id', 'integer', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    /** started | complete | aborted | digest-mismatch */
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('bytes', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('download_registration').on('download').columns(['registration_id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['download', 'alarm', 'preservation_event', 'held_copy', 'replica', 'vault_blob']) {
    await db.schema.dropTable(table).execute();
  }
}
