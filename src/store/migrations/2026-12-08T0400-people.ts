import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
//
// Named users, sessions, and tokens that belong to users (issue 19). Every existing account
// becomes a user with the rights it had, and keeps its tokens:
// - admin, registrar: a user of that role;
// - depositor (named): a unit of its name (kind, region and credit code left for staff to fill
//   in) and a unit-admin user of it, registering as the same account, so its records stay its own;
// - depositor (pseudonymous): a citizen user, still registering under its pseudonym.
// The user's login name is `account-<id>`; it has no password (its tokens keep working, and
// staff can set one). Portable: schema builder, query builder, text/integer/blob columns only.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('app_user')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('username', 'text', (c) => c.notNull().unique())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('unit_id', 'integer', (c) => c.references('unit.id'))
    .addColumn('account_id', 'integer', (c) => c.notNull().references('account.id'))
    .addColumn('password_hash', 'text')
    .addColumn('failed_logins', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('locked_until', 'text')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('app_user_unit').on('app_user').column('unit_id').execute();

  await db.schema
    .createTable('user_session')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('session_hash', 'blob', (c) => c.notNull().unique())
    .addColumn('user_id', 'integer', (c) => c.notNull().references('app_user.id'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('ended_at', 'text')
    .execute();
  await db.schema.createIndex('user_session_user').on('user_session').column('user_id').execute();

  await db.schema.alterTable('api_token').addColumn('user_id', 'integer', (c) => c.references('app_user.id')).execute();
  await db.schema.alterTable('api_token').addColumn('expires_at', 'text').execute();
  await db.schema.createIndex('api_token_user').on('api_token').column('user_id').execute();

  const accounts: { id: number; name: string; role: string; pseudonymous: number; created_at: string }[] = await db
    .selectFrom('account')
    .select(['id', 'name', 'role', 'pseudonymous', 'created_at'])
    .orderBy('id')
    .execute();
  const now = new Date().toISOString();
  for (const account of accounts) {
    let role: string;
    let unitId: number | null = null;
    // Number(): a driver may hand integers back as strings (PostgreSQL's bigint does).
    const pseudonymous = Number(account.pseudonymous) !== 0;
    if (account.role === 'depositor' && !pseudonymous) {
      const unit = await db
        .insertInto('unit')
        .values({
          name: account.name,
          credit_code: null,
          kind: null,
          region: null,
          in_transfer_scope: 0,
          digital_archive_room: 0,
          contact: null,
          status: 'active',
          account_id: account.id,
          created_at: account.created_at,
          updated_at: now,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      unitId = unit.id;
      role = 'unit-admin';
    } else if (account.role === 'depositor') {
      role = 'citizen';
    } else {
      role = account.role; // admin, registrar
    }
    const user = await db
      .insertInto('app_user')
      .values({
        username: `account-${account.id}`,
        display_name: account.name,
        role,
        unit_id: unitId,
        account_id: account.id,
        password_hash: null,
        failed_logins: 0,
        locked_until: null,
        status: 'active',
        created_at: account.created_at,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db.updateTable('api_token').set({ user_id: user.id }).where('account_id', '=', account.id).execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('api_token_user').execute();
  await db.schema.alterTable('api_token').dropColumn('expires_at').execute();
  await db.schema.alterTable('api_token').dropColumn('user_id').execute();
  await db.schema.dropTable('user_session').execute();
  await db.schema.dropTable('app_user').execute();
  await db.deleteFrom('unit').where('credit_code', 'is', null).execute();
}
