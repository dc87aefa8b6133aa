import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
//
// Units (单位) of the policy 衢委办〔2010〕59号: agencies, public institutions, state and private
// enterprises, social organisations (issue 19). Each registers as one account, so the records of
// all its users name the unit. Portable: the kysely schema builder and text/integer columns only.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('unit')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    // Unique where given (SQLite and PostgreSQL both let many rows hold NULL).
    .addColumn('credit_code', 'text', (c) => c.unique())
    .addColumn('kind', 'text')
    .addColumn('region', 'text')
    .addColumn('in_transfer_scope', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('digital_archive_room', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('contact', 'text')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
    .addColumn('account_id', 'integer', (c) => c.notNull().unique().references('account.id'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('unit').execute();
}
