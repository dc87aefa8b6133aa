import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
export async function up(db: Kysely<any>): Promise<void> {
  // The detached signature sent with a signed document (a period's bundle, a journal or
  // certificate segment, the chain's state): the peer holds it framed with the document's bytes,
  // and a fixity challenge must cover both, so the sender keeps what it sent. Signatures carry
  // their signing time, so they cannot be made again byte for byte.
  await db.schema.alterTable('replica').addColumn('signature', 'blob').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('replica').dropColumn('signature').execute();
}
