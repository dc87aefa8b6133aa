import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
export async function up(db: Kysely<any>): Promise<void> {
  // The RFC 3161 token over each non-empty sealed period's root.
  await db.schema
    .createTable('period_timestamp')
    .addColumn('period_id', 'integer', (c) => c.primaryKey().references('period.id'))
    .addColumn('token', 'blob', (c) => c.notNull())
    .addColumn('gen_time', 'text', (c) => c.notNull())
    .addColumn('tsa', 'text', (c) => c.notNull())
    .addColumn('serial', 'text', (c) => c.notNull())
    /** 'built-in' or the URL of the external TSA. */
    .addColumn('authority', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  // One row per attempt to anchor a period on a chain; at most one is live (not `reorged`).
  await db.schema
    .createTable('anchor')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('period_id', 'integer', (c) => c.notNull().references('period.id'))
    /** The configured chain's name (several chains at once are allowed). */
    .addColumn('chain', 'text', (c) => c.notNull())
    .addColumn('chain_id', 'integer', (c) => c.notNull())
    .addColumn('contract', 'text', (c) => c.notNull())
    /** sending → sent → confirmed; reorged when its block left the chain (a new row follows). */
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('tx_hash', 'text')
    .addColumn('nonce', 'integer')
    .addColumn('block_number', 'integer')
    .addColumn('block_hash', 'text')
    .addColumn('block_time', 'text')
    .addColumn('confirmations', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('anchor_period_chain').on('anchor').columns(['period_id', 'chain']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('anchor').execute();
  await db.schema.dropTable('period_timestamp').execute();
}
