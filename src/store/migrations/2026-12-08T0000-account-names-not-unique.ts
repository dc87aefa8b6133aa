import { sql, type Kysely } from 'kysely';
import { engineOf } from '../dialect.js';

// Frozen: never edit a migration that has shipped; add a new one.
//
// An account is identified by its id, never by its display name: two citizens may share a
// common name, and two accounts with the same name must stay two accounts (issue 17, item 6).
// SQLite cannot drop a UNIQUE constraint, so the table is rebuilt (the procedure of
// https://www.sqlite.org/lang_altertable.html#otheralter): foreign keys off (outside any
// transaction, where the pragma takes effect), copy into a new table, drop, rename, check, on.
export async function up(db: Kysely<any>): Promise<void> {
  // PostgreSQL drops a constraint in place (and runs each migration in a transaction).
  if (engineOf(db) === 'postgres') await sql`ALTER TABLE account DROP CONSTRAINT account_name_key`.execute(db);
  else await rebuildAccountTable(db, false);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (engineOf(db) === 'postgres') await sql`ALTER TABLE account ADD CONSTRAINT account_name_key UNIQUE (name)`.execute(db);
  else await rebuildAccountTable(db, true);
}

async function rebuildAccountTable(db: Kysely<any>, uniqueName: boolean): Promise<void> {
  await sql`PRAGMA foreign_keys = OFF`.execute(db);
  try {
    await sql`BEGIN IMMEDIATE`.execute(db);
    try {
      await db.schema
        .createTable('account_rebuilt')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => (uniqueName ? c.notNull().unique() : c.notNull()))
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('pseudonymous', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await sql`INSERT INTO account_rebuilt (id, name, role, pseudonymous, created_at) SELECT id, name, role, pseudonymous, created_at FROM account`.execute(db);
      await db.schema.dropTable('account').execute();
      await db.schema.alterTable('account_rebuilt').renameTo('account').execute();
      const broken = await sql`PRAGMA foreign_key_check`.execute(db);
      if (broken.rows.length > 0) throw new Error(`foreign keys broken by the account rebuild: ${JSON.stringify(broken.rows)}`);
      await sql`COMMIT`.execute(db);
    } catch (err) {
      await sql`ROLLBACK`.execute(db);
      throw err;
    }
  } finally {
    await sql`PRAGMA foreign_keys = ON`.execute(db);
  }
}
