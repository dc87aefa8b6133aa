import { sql, type Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
export async function up(db: Kysely<any>): Promise<void> {
  // At each start the vault removes blobs no registration with a file refers to (what a crash
  // between a blob's move into place and its registration's commit leaves). Without an index on
  // the digest alone that look-up scans every registration, hash-only ones included: seconds at
  // every start of a center holding millions. Partial: only registrations with a file (uploads)
  // pay for it on insert, not the batch route's hash-only rows.
  await db.schema.createIndex('registration_file_sha256').on('registration').column('sha256').where(sql.ref('has_file'), '=', 1).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('registration_file_sha256').execute();
}
