import { sql, type Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
//
// The backup status counted every blob's and every sealed period's verified copies on each
// request (a correlated count over `replica` per vault row: seconds at a million blobs). Each
// object's count is now kept in `copy_count`, changed in the same transaction as the replica
// row or local copy it counts, and `copy_count_total` keeps how many objects have each count:
// the totals read a handful of rows, and the objects below a minimum are a seek in
// `copy_count_list` (one count at a time, newest first).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('copy_count')
    /** blob | period */
    .addColumn('kind', 'text', (c) => c.notNull())
    /** The blob's SHA-256 (hex) or the period id, as `replica.object` names it. */
    .addColumn('object', 'text', (c) => c.notNull())
    /** Verified copies: the local one (a blob's when ok; a sealed period's always) and each peer's that counts. */
    .addColumn('copies', 'integer', (c) => c.notNull())
    /** The blob's `created_at`, the period's `sealed_at`: the listing's order. */
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('copy_count_pk', ['kind', 'object'])
    .execute();
  await db.schema.createIndex('copy_count_list').on('copy_count').columns(['kind', 'copies', 'created_at', 'object']).execute();
  await db.schema
    .createTable('copy_count_total')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('copies', 'integer', (c) => c.notNull())
    .addColumn('objects', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('copy_count_total_pk', ['kind', 'copies'])
    .execute();
  // Per peer and kind, how many replica rows are in each state (`verified`, `unreachable`: verified
  // but its last challenge went unanswered, `pending`, `damaged`, `missing`): the peers' figures
  // of the status read these instead of grouping every replica row of each peer.
  await db.schema
    .createTable('replica_total')
    .addColumn('peer', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('replicas', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('replica_total_pk', ['peer', 'kind', 'state'])
    .execute();
  // A peer's newest send error: only rows not verified carry one (a confirmation clears it).
  await db.schema.createIndex('replica_peer_error').on('replica').columns(['peer', 'next_attempt_at']).where(sql.ref('last_error'), 'is not', null).execute();
  // In one transaction (unless the migrator already runs in one): a commit per page of rows
  // made the counting of 200,000 blobs take 13 s.
  const inOne = (fn: (trx: Kysely<any>) => Promise<void>) => (db.isTransaction ? fn(db) : db.transaction().execute(fn));
  await inOne(async (trx) => {
    await backfill(trx);
    await backfillReplicaTotals(trx);
  });
}

/** The replica rows already there, by peer, kind and state: one grouped read. */
async function backfillReplicaTotals(db: Kysely<any>): Promise<void> {
  const groups = (await db
    .selectFrom('replica')
    .select((eb) => ['peer', 'kind', 'status', 'audit_outcome', eb.fn.countAll().as('n')])
    .groupBy(['peer', 'kind', 'status', 'audit_outcome'])
    .execute()) as { peer: string; kind: string; status: string; audit_outcome: string | null; n: number | string }[];
  const totals = new Map<string, number>();
  for (const g of groups) {
    const state = g.status === 'verified' && g.audit_outcome === 'unreachable' ? 'unreachable' : g.status;
    const key = JSON.stringify([g.peer, g.kind, state]);
    totals.set(key, (totals.get(key) ?? 0) + Number(g.n));
  }
  for (const [key, replicas] of totals) {
    const [peer, kind, state] = JSON.parse(key) as [string, string, string];
    await db.insertInto('replica_total').values({ peer, kind, state, replicas }).execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('replica_peer_error').execute();
  await db.schema.dropTable('replica_total').execute();
  await db.schema.dropTable('copy_count_total').execute();
  await db.schema.dropTable('copy_count').execute();
}

const BATCH = 500;

/**
 * The counts of the objects already there, a page of objects at a time, each page's peer copies
 * counted in one seek of the replica key. `replica.object` is hex text and `vault_blob.sha256`
 * bytes, and no SQL turns one into the other on every engine, so the names are made here.
 */
async function backfill(db: Kysely<any>): Promise<void> {
  const totals = new Map<string, number>();
  const write = async (kind: 'blob' | 'period', objects: { object: string; local: number; created_at: string }[]) => {
    if (objects.length === 0) return;
    // Through the key, counted here: a filter on `status` let SQLite walk every verified copy per page.
    const remote = new Map<string, number>();
    const replicas = (await db
      .selectFrom('replica')
      .select(['object', 'status', 'audit_outcome'])
      .where('kind', '=', kind)
      .where('object', 'in', objects.map((o) => o.object))
      .execute()) as { object: string; status: string; audit_outcome: string | null }[];
    for (const r of replicas) if (r.status === 'verified' && r.audit_outcome !== 'unreachable') remote.set(r.object, (remote.get(r.object) ?? 0) + 1);
    const rows = objects.map((o) => ({ kind, object: o.object, copies: o.local + (remote.get(o.object) ?? 0), created_at: o.created_at }));
    await db.insertInto('copy_count').values(rows).execute();
    for (const r of rows) totals.set(`${kind}:${r.copies}`, (totals.get(`${kind}:${r.copies}`) ?? 0) + 1);
  };
  let afterSha: Buffer | undefined;
  for (;;) {
    let query = db.selectFrom('vault_blob').select(['sha256', 'status', 'created_at']).orderBy('sha256').limit(BATCH);
    if (afterSha) query = query.where('sha256', '>', afterSha);
    const blobs = (await query.execute()) as { sha256: Uint8Array; status: string; created_at: string }[];
    await write(
      'blob',
      blobs.map((b) => ({ object: Buffer.from(b.sha256).toString('hex'), local: b.status === 'ok' ? 1 : 0, created_at: b.created_at })),
    );
    if (blobs.length < BATCH) break;
    afterSha = Buffer.from(blobs[blobs.length - 1]!.sha256);
  }
  let afterId = 0;
  for (;;) {
    const periods = (await db
      .selectFrom('period')
      .select(['id', 'sealed_at'])
      .where('status', '=', 'sealed')
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(BATCH)
      .execute()) as { id: number | string; sealed_at: string | null }[];
    await write('period', periods.map((p) => ({ object: String(p.id), local: 1, created_at: p.sealed_at ?? '' })));
    if (periods.length < BATCH) break;
    afterId = Number(periods[periods.length - 1]!.id);
  }
  for (const [key, objects] of totals) {
    const [kind, copies] = key.split(':') as [string, string];
    await db.insertInto('copy_count_total').values({ kind, copies: Number(copies), objects }).execute();
  }
}
