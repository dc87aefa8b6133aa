import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('center_meta')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('account')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('pseudonymous', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('api_token')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('account_id', 'integer', (c) => c.notNull().references('account.id'))
    .addColumn('token_hash', 'blob', (c) => c.notNull().unique())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .execute();

  await db.schema
    .createTable('period')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('opened_at', 'text', (c) => c.notNull())
    .addColumn('closed_at', 'text')
    .addColumn('sealed_at', 'text')
    .addColumn('leaf_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('root', 'blob')
    .addColumn('previous_root', 'blob')
    .execute();

  await db.schema
    .createTable('registration')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('period_id', 'integer', (c) => c.notNull().references('period.id'))
    .addColumn('leaf_index', 'integer', (c) => c.notNull())
    .addColumn('registrant_id', 'integer', (c) => c.notNull().references('account.id'))
    .addColumn('sha256', 'blob', (c) => c.notNull())
    .addColumn('sha256_key', 'integer', (c) => c.notNull())
    .addColumn('sm3', 'blob')
    .addColumn('size', 'integer')
    .addColumn('has_file', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('record', 'text', (c) => c.notNull())
    .addColumn('record_digest', 'blob', (c) => c.notNull())
    .addColumn('salt', 'blob', (c) => c.notNull())
    .addColumn('leaf_hash', 'blob', (c) => c.notNull())
    .addColumn('registered_at', 'text', (c) => c.notNull())
    .execute();
  // Leaves are read in order when a period seals; appended in order, so this index is cheap.
  await db.schema
    .createIndex('registration_period_leaf')
    .on('registration')
    .columns(['period_id', 'leaf_index'])
    .unique()
    .execute();
  // Finds the same content registered again by the same registrant (which then is one
  // registration). Keyed by 6 bytes of the digest's hash as an integer, not the 32-byte blob: the
  // index is a third the size and takes random inserts ~1.5x faster at a million rows; the
  // writer compares full digests (it is the only writer, so it also keeps them unique).
  await db.schema
    .createIndex('registration_registrant_sha256_key')
    .on('registration')
    .columns(['registrant_id', 'sha256_key'])
    .execute();

  // A period's tree levels in chunks of 64 hashes (2 KiB). The rowid is computed from
  // (period, level, chunk), so a proof's read is one B-tree descent to a row that fits in its
  // page: no index, no overflow chain (a WITHOUT ROWID table would overflow past ~1 KB rows).
  await db.schema
    .createTable('tree_chunk')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('period_id', 'integer', (c) => c.notNull().references('period.id'))
    .addColumn('level', 'integer', (c) => c.notNull())
    .addColumn('chunk', 'integer', (c) => c.notNull())
    .addColumn('hashes', 'blob', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['tree_chunk', 'registration', 'period', 'api_token', 'account', 'center_meta']) {
    await db.schema.dropTable(table).execute();
  }
}
