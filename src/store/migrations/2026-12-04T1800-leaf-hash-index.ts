import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
export async function up(db: Kysely<any>): Promise<void> {
  // Sealing reads every leaf hash of a period in leaf order. Through this index it reads about
  // 45 bytes a leaf; through registration_period_leaf it read each ~700-byte row for its 32-byte
  // hash. That is 2.7 s of a 4.2 s seal of a million leaves. The unique index stays: it is the
  // guarantee that a leaf index is taken once.
  await db.schema.createIndex('registration_period_leaf_hash').on('registration').columns(['period_id', 'leaf_index', 'leaf_hash']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('registration_period_leaf_hash').execute();
}
