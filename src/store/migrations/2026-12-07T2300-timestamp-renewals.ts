import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
export async function up(db: Kysely<any>): Promise<void> {
  // Renewals of each period's RFC 3161 token (RFC 4998 style): link `seq` (1, 2, …) is a token
  // whose imprint is SHA-256(root ‖ DER of link seq-1), link 0 being period_timestamp.token.
  // The key makes a renewal happen once: a second writer of the same link inserts nothing.
  await db.schema
    .createTable('period_timestamp_renewal')
    .addColumn('period_id', 'integer', (c) => c.notNull().references('period.id'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('token', 'blob', (c) => c.notNull())
    .addColumn('gen_time', 'text', (c) => c.notNull())
    .addColumn('tsa', 'text', (c) => c.notNull())
    .addColumn('serial', 'text', (c) => c.notNull())
    /** Why: the previous signer's expiry ahead, or a retired algorithm. */
    .addColumn('reason', 'text', (c) => c.notNull())
    /** 'built-in' or the URL of the external TSA. */
    .addColumn('authority', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('period_timestamp_renewal_pk', ['period_id', 'seq'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('period_timestamp_renewal').execute();
}
