import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
export async function up(db: Kysely<any>): Promise<void> {
  // Issued certificates, kept whole: their random id is the public link a QR code carries.
  await db.schema
    .createTable('certificate')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('registration_id', 'integer', (c) => c.notNull().references('registration.id'))
    .addColumn('issued_at', 'text', (c) => c.notNull())
    /** Ids of the anchors it lists, comma-separated: a new certificate is issued when they change. */
    .addColumn('anchor_ids', 'text', (c) => c.notNull())
    .addColumn('document', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('certificate_registration').on('certificate').columns(['registration_id', 'issued_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('certificate').execute();
}
