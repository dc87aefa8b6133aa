import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
export async function up(db: Kysely<any>): Promise<void> {
  // `GET /v1/registrations?sha256=` (`archive-seal find FILE`) for staff, who see every
  // registrant's: the registrant's own index cannot serve a look-up without the registrant.
  await db.schema.createIndex('registration_sha256_key').on('registration').column('sha256_key').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('registration_sha256_key').execute();
}
