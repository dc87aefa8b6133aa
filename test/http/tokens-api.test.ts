import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Migrator, type MigrationProvider } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken, TokenAuthenticator } from '../../src/people/access-tokens.js';
import { MIGRATIONS } from '../../src/store/migrations/index.js';
import { Store } from '../../src/store/store.js';
import { makeTestCenter, type TestCenter } from '../helpers/test-center.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// Accounts are identified by id, never by display name (issue 17, item 6): two people may share
// a common name, and a token made for the second must not open the first's records.
let center: TestCenter;
beforeAll(async () => {
  center = await makeTestCenter();
});
afterAll(() => center.destroy());

const createToken = (json: unknown) => center.request('POST', '/v1/tokens', { token: center.adminToken, json });

async function uploadAs(token: string, file: Buffer): Promise<number> {
  const fd = new FormData();
  fd.append('category', 'voluntary.individual');
  fd.append('file', new Blob([new Uint8Array(file)], { type: 'application/pdf' }), '房产证.pdf');
  const res = await center.request('POST', '/v1/registrations', { token, body: fd });
  expect(res.status).toBe(201);
  return res.body.id;
}

describe('POST /v1/tokens', () => {
  it('makes a new account for a name that is already taken: the second 王芳 cannot read the first\'s records or originals', async () => {
    const first = await createToken({ name: '王芳', role: 'depositor' });
    expect(first.status).toBe(201);
    const file = randomBytes(1000);
    const id = await uploadAs(first.body.token, file);

    const second = await createToken({ name: '王芳', role: 'depositor' });
    expect(second.status).toBe(201);
    expect(second.body.account).toMatchObject({ name: '王芳', role: 'depositor' });
    expect(second.body.account.accountId).not.toBe(first.body.account.accountId);

    const record = await center.request('GET', `/v1/registrations/${id}`, { token: second.body.token });
    expect([record.status, record.body.error?.code]).toEqual([404, 'NOT_FOUND']);
    const original = await center.request('GET', `/v1/registrations/${id}/file`, { token: second.body.token });
    expect(original.status).toBe(404);
    const list = await center.request('GET', '/v1/registrations', { token: second.body.token });
    expect(list.body.registrations).toEqual([]);
    // The first keeps what is hers.
    expect((await center.request('GET', `/v1/registrations/${id}`, { token: first.body.token })).status).toBe(200);
  });

  it('makes a pseudonymous account when asked, even if a named account of that name exists', async () => {
    const named = await createToken({ name: '张伟', role: 'depositor' });
    const private_ = await createToken({ name: '张伟', role: 'depositor', pseudonymous: true });
    expect(private_.status).toBe(201);
    expect(private_.body.account).toMatchObject({ name: '张伟', pseudonymous: true });
    expect(private_.body.account.accountId).not.toBe(named.body.account.accountId);
    const sha256 = createHash('sha256').update('张伟的遗嘱').digest('hex');
    const res = await center.request('POST', '/v1/registrations', { token: private_.body.token, json: { sha256, category: 'voluntary.individual' } });
    expect(res.status).toBe(201);
    expect(res.body.record.registrant).toEqual({ pseudonym: expect.any(String) });
    expect(JSON.stringify(res.body.record)).not.toContain('张伟');
  });

  it('gives another token for an existing account named by its id; the earlier token keeps working', async () => {
    const made = await createToken({ name: '衢州市档案馆', role: 'registrar' });
    const again = await createToken({ accountId: made.body.account.accountId });
    expect(again.status).toBe(201);
    expect(again.body.account).toEqual(made.body.account);
    expect(again.body.token).not.toBe(made.body.token);
    for (const token of [made.body.token, again.body.token]) {
      expect((await center.request('GET', '/v1/registrations', { token })).status).toBe(200);
    }
  });

  it.each([
    ['an account that does not exist', { accountId: 999_999 }, 404, 'NOT_FOUND'],
    ['an account id with a name', { accountId: 1, name: 'admin' }, 400, 'INVALID_INPUT'],
    ['an account id with a role (no promotion)', { accountId: 1, role: 'admin' }, 400, 'INVALID_INPUT'],
    ['an account id that is not an id', { accountId: '1' }, 400, 'INVALID_INPUT'],
    ['an unknown member', { name: 'x', role: 'depositor', unit: 'y' }, 400, 'INVALID_INPUT'],
    ['pseudonymous that is not a boolean', { name: 'x', role: 'depositor', pseudonymous: 'yes' }, 400, 'INVALID_INPUT'],
    ['an unknown role', { name: 'x', role: 'king' }, 400, 'INVALID_INPUT'],
    ['a name with a bidi override', { name: '王\u202e芳', role: 'depositor' }, 400, 'INVALID_TEXT'],
  ])('refuses %s', async (_, json, status, code) => {
    const res = await createToken(json);
    expect([res.status, res.body.error.code]).toEqual([status, code]);
  });
});

describe('the migration that makes account names not unique', () => {
  it('keeps every account, token and registration of a database made before it', async () => {
    const dir = makeTempDir();
    try {
      const file = join(dir.path, 'archive-seal.sqlite');
      const before = Object.keys(MIGRATIONS).filter((name) => name < '2026-12-08T0000-account-names-not-unique');
      const old = Store.openConnection({ file });
      const provider: MigrationProvider = { getMigrations: async () => Object.fromEntries(before.map((n) => [n, MIGRATIONS[n]!])) };
      expect((await new Migrator({ db: old.db, provider }).migrateToLatest()).error).toBeUndefined();
      // The old schema refused a second account of the same name. (An account and token made as
      // the code of that time made them: the users of issue 19 did not exist yet.)
      const token = `as_${randomBytes(32).toString('base64url')}`;
      const accountId = Number(old.sqlite.prepare("INSERT INTO account (name, role, created_at) VALUES ('某某公司', 'depositor', 'x')").run().lastInsertRowid);
      old.sqlite.prepare("INSERT INTO api_token (account_id, token_hash, created_at) VALUES (?, ?, 'x')").run(accountId, createHash('sha256').update(token).digest());
      const made = { token, principal: { accountId, name: '某某公司' } };
      expect(() => old.sqlite.prepare("INSERT INTO account (name, role, created_at) VALUES ('某某公司', 'depositor', 'x')").run()).toThrow(/UNIQUE/);
      old.sqlite.prepare("INSERT INTO period (id, status, opened_at) VALUES (1, 'open', 'x')").run();
      old.sqlite.prepare("INSERT INTO registration (id, period_id, leaf_index, registrant_id, sha256, sha256_key, record, record_digest, salt, leaf_hash, registered_at) SELECT 1, 1, 0, ?, x'00', 0, '{}', x'00', x'00', x'00', 'x' FROM (SELECT 1)").run(made.principal.accountId);
      old.close();

      const store = await Store.open({ file });
      try {
        expect(new TokenAuthenticator(store).authenticate(made.token)).toMatchObject(made.principal);
        const twin = issueToken(store, { name: '某某公司', role: 'depositor' });
        expect(twin.principal.accountId).not.toBe(made.principal.accountId);
        expect(store.sqlite.prepare('SELECT registrant_id FROM registration WHERE id = 1').pluck().get()).toBe(made.principal.accountId);
        expect(store.sqlite.prepare('PRAGMA foreign_keys').pluck().get()).toBe(1);
        expect(store.sqlite.prepare('PRAGMA foreign_key_check').all()).toEqual([]);
      } finally {
        store.close();
      }
    } finally {
      dir.remove();
    }
  });
});
