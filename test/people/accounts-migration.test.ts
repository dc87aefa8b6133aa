import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Migrator, type MigrationProvider } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { buildCenter, type Center } from '../../src/server.js';
import { MIGRATIONS } from '../../src/store/migrations/index.js';
import { Store } from '../../src/store/store.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// A center's database as it was before units and users (issue 19): accounts with a role
// (admin, registrar, depositor), bearer tokens, registrations. Opened by this version, every
// account becomes a user with the same rights, and every token keeps working.

const dir = makeTempDir();
const file = join(dir.path, 'archive-seal.sqlite');
let center: Center;
const tokens: Record<string, string> = {};
const ids: Record<string, number> = {};
let revokedToken: string;
const logs: string[] = [];

async function request(method: string, path: string, token: string, json?: unknown) {
  const res = await center.app.request(path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(json !== undefined && { 'content-type': 'application/json' }) },
    ...(json !== undefined && { body: JSON.stringify(json) }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

beforeAll(async () => {
  const old = Store.openConnection({ file });
  const before = Object.keys(MIGRATIONS).filter((name) => name < '2026-12-08T0300-units');
  const provider: MigrationProvider = { getMigrations: async () => Object.fromEntries(before.map((n) => [n, MIGRATIONS[n]!])) };
  expect((await new Migrator({ db: old.db, provider }).migrateToLatest()).error).toBeUndefined();
  const account = (name: string, role: string, pseudonymous = 0) =>
    Number(old.sqlite.prepare('INSERT INTO account (name, role, pseudonymous, created_at) VALUES (?, ?, ?, ?)').run(name, role, pseudonymous, '2026-12-01T00:00:00.000Z').lastInsertRowid);
  const token = (accountId: number, revoked = false) => {
    const t = `as_${randomBytes(32).toString('base64url')}`;
    old.sqlite.prepare('INSERT INTO api_token (account_id, token_hash, created_at, revoked_at) VALUES (?, ?, ?, ?)').run(accountId, createHash('sha256').update(t).digest(), '2026-12-01T00:00:00.000Z', revoked ? '2026-12-02T00:00:00.000Z' : null);
    return t;
  };
  ids.admin = account('admin', 'admin');
  ids.registrar = account('衢州市档案馆', 'registrar');
  ids.depositor = account('衢州市民政局', 'depositor');
  ids.private = account('张伟', 'depositor', 1);
  tokens.admin = token(ids.admin);
  tokens.registrar = token(ids.registrar);
  tokens.depositor = token(ids.depositor);
  tokens.depositor2 = token(ids.depositor);
  tokens.private = token(ids.private);
  revokedToken = token(ids.depositor, true);
  old.sqlite.prepare("INSERT INTO period (id, status, opened_at, leaf_count) VALUES (1, 'open', '2026-12-01T00:00:00.000Z', 3)").run();
  for (const [i, who] of [[1, ids.depositor], [2, ids.depositor], [3, ids.private]] as const) {
    old.sqlite
      .prepare("INSERT INTO registration (id, period_id, leaf_index, registrant_id, sha256, sha256_key, record, record_digest, salt, leaf_hash, registered_at) VALUES (?, 1, ?, ?, ?, ?, '{}', x'00', x'00', x'00', 'x')")
      .run(i, i - 1, who, randomBytes(32), i);
  }
  old.close();
  center = await buildCenter(loadConfig({ ARCHIVE_SEAL_DATA_DIR: dir.path, ARCHIVE_SEAL_SEAL_SCHEDULE: 'off', ARCHIVE_SEAL_CHAINS: 'none' }), (line) => logs.push(line));
});
afterAll(async () => {
  await center?.close();
  dir.remove();
});

describe('the migration of accounts and tokens to units and users', () => {
  it('keeps every token working, as a user with the rights its account had', async () => {
    const who = async (token: string) => (await request('GET', '/v1/session', token)).body.user;
    expect(await who(tokens.admin!)).toMatchObject({ accountId: ids.admin, role: 'admin', username: `account-${ids.admin}`, name: 'admin' });
    expect(await who(tokens.registrar!)).toMatchObject({ accountId: ids.registrar, role: 'registrar', name: '衢州市档案馆' });
    // A named depositor: the unit-admin of a unit of its name, registering as the same account.
    const depositor = await who(tokens.depositor!);
    expect(depositor).toMatchObject({ accountId: ids.depositor, role: 'unit-admin', name: '衢州市民政局', unitId: expect.any(Number) });
    expect(await who(tokens.depositor2!)).toEqual(depositor);
    // A pseudonymous depositor: a citizen, still registering under its pseudonym.
    expect(await who(tokens.private!)).toMatchObject({ accountId: ids.private, role: 'citizen', pseudonymous: true, unitId: null });
  });

  it('makes the unit of the depositor\'s name, with what staff must still fill in left empty', async () => {
    const depositor = (await request('GET', '/v1/session', tokens.depositor!)).body.user;
    const unit = await request('GET', `/v1/units/${depositor.unitId}`, tokens.admin!);
    expect(unit.body).toMatchObject({ name: '衢州市民政局', accountId: ids.depositor, creditCode: null, kind: null, region: null, status: 'active' });
    // Staff complete it.
    const done = await request('PATCH', `/v1/units/${depositor.unitId}`, tokens.registrar!, { creditCode: '914403001922038216', kind: 'agency', region: '衢州市' });
    expect(done.status).toBe(200);
  });

  it('keeps a revoked token revoked', async () => {
    expect((await request('GET', '/v1/registrations', revokedToken)).status).toBe(401);
  });

  it('loses no registration: each stays its registrant\'s, and a new one lands on the same account', async () => {
    const count = (accountId: number) => (center.store.sqlite.prepare('SELECT count(*) AS n FROM registration WHERE registrant_id = ?').get(accountId) as { n: number }).n;
    expect([count(ids.depositor!), count(ids.private!)]).toEqual([2, 1]);
    const made = await request('POST', '/v1/registrations', tokens.depositor!, { sha256: 'aa'.repeat(32), category: 'voluntary.individual' });
    expect(made.status, logs.join('\n')).toBe(201);
    expect(made.body.record.registrant).toEqual({ id: `account:${ids.depositor}`, name: '衢州市民政局' });
    expect(count(ids.depositor!)).toBe(3);
  });

  it('makes no new first admin: the migrated one can still act', () => {
    expect(existsSync(join(dir.path, 'admin-token.txt'))).toBe(false);
  });

  it('the old token routes still answer as before: a new account for a name (POST /v1/tokens)', async () => {
    const res = await request('POST', '/v1/tokens', tokens.admin!, { name: '衢州市民政局', role: 'depositor' });
    expect(res.status).toBe(201);
    expect(res.body.account).toMatchObject({ name: '衢州市民政局', role: 'depositor', pseudonymous: false });
    expect(res.body.account.accountId).not.toBe(ids.depositor);
  });
});
