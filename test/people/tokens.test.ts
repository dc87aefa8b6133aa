import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestCenter, type TestCenter } from '../helpers/test-center.js';
import { makeUnit, makeUser, syntheticCreditCode } from './people-fixture.js';

let center: TestCenter;
beforeAll(async () => {
  center = await makeTestCenter();
});
afterAll(() => center.destroy());

describe('API tokens of users', () => {
  it('a token belongs to a user and carries its rights; a clerk registers as its unit', async () => {
    const unit = await makeUnit(center, syntheticCreditCode(300), '衢州市卫生健康委员会');
    const clerk = await makeUser(center, 'clerk', { unitId: unit.id });
    const other = await makeUser(center, 'clerk', { unitId: unit.id });
    const res = await center.request('POST', '/v1/registrations', { token: clerk.token, json: { sha256: 'ef'.repeat(32), category: 'voluntary.individual' } });
    expect(res.status).toBe(201);
    expect(res.body.record.registrant).toEqual({ id: `account:${unit.accountId}`, name: '衢州市卫生健康委员会' });
    // The unit's other clerk sees it; a clerk of another unit does not.
    expect((await center.request('GET', `/v1/registrations/${res.body.id}`, { token: other.token })).status).toBe(200);
    const stranger = await makeUser(center, 'clerk', { unitId: (await makeUnit(center, syntheticCreditCode(301))).id });
    expect((await center.request('GET', `/v1/registrations/${res.body.id}`, { token: stranger.token })).status).toBe(404);
  });

  it('GET /v1/tokens: a user lists its own tokens, never the token itself; an admin lists all', async () => {
    const citizen = await makeUser(center, 'citizen');
    const second = await center.request('POST', '/v1/tokens', { token: citizen.token, json: { expiresInDays: 30 } });
    expect(second.status).toBe(201);
    expect(Date.parse(second.body.expiresAt) - Date.now()).toBeGreaterThan(29 * 86_400_000);
    const mine = await center.request('GET', '/v1/tokens', { token: citizen.token });
    expect(mine.body.tokens).toHaveLength(2);
    expect(mine.body.tokens.every((t: { userId: number; status: string }) => t.userId === citizen.id && t.status === 'live')).toBe(true);
    expect(JSON.stringify(mine.body)).not.toContain(citizen.token);
    const all = await center.request('GET', '/v1/tokens?limit=1000', { token: center.adminToken });
    expect(new Set(all.body.tokens.map((t: { userId: number }) => t.userId)).size).toBeGreaterThan(1);
  });

  it('DELETE /v1/tokens/:id revokes at once (even a token just used, which the center remembers for a while)', async () => {
    const citizen = await makeUser(center, 'citizen');
    expect((await center.request('GET', '/v1/registrations', { token: citizen.token })).status).toBe(200);
    const [token] = (await center.request('GET', '/v1/tokens', { token: citizen.token })).body.tokens;
    const revoked = await center.request('DELETE', `/v1/tokens/${token.id}`, { token: citizen.token });
    expect(revoked.status).toBe(200);
    expect(revoked.body.status).toBe('revoked');
    const after = await center.request('GET', '/v1/registrations', { token: citizen.token });
    expect([after.status, after.body.error.code]).toEqual([401, 'INVALID_TOKEN']);
  });

  it('another user\'s token id is 404 to a user who does not manage it; an admin revokes any', async () => {
    const a = await makeUser(center, 'citizen');
    const b = await makeUser(center, 'citizen');
    const [tokenOfB] = (await center.request('GET', '/v1/tokens', { token: b.token })).body.tokens;
    const res = await center.request('DELETE', `/v1/tokens/${tokenOfB.id}`, { token: a.token });
    expect([res.status, res.body.error.code]).toEqual([404, 'NOT_FOUND']);
    expect((await center.request('GET', '/v1/registrations', { token: b.token })).status).toBe(200);
    expect((await center.request('DELETE', `/v1/tokens/${tokenOfB.id}`, { token: center.adminToken })).status).toBe(200);
    expect((await center.request('GET', '/v1/registrations', { token: b.token })).status).toBe(401);
  });

  it('an expired token opens nothing', async () => {
    const citizen = await makeUser(center, 'citizen');
    const made = await center.request('POST', '/v1/tokens', { token: citizen.token, json: { expiresInDays: 1 } });
    center.store.prepare('UPDATE api_token SET expires_at = ? WHERE id = ?').run(new Date(Date.now() - 1000).toISOString(), made.body.id);
    const res = await center.request('GET', '/v1/registrations', { token: made.body.token });
    expect([res.status, res.body.error.code]).toEqual([401, 'INVALID_TOKEN']);
    const listed = (await center.request('GET', '/v1/tokens', { token: citizen.token })).body.tokens.find((t: { id: number }) => t.id === made.body.id);
    expect(listed.status).toBe('expired');
  });

  it('a suspended user\'s tokens stop at once', async () => {
    const registrar = await makeUser(center, 'registrar');
    expect((await center.request('GET', '/v1/registrations', { token: registrar.token })).status).toBe(200);
    expect((await center.request('PATCH', `/v1/users/${registrar.id}`, { token: center.adminToken, json: { status: 'suspended' } })).status).toBe(200);
    expect((await center.request('GET', '/v1/registrations', { token: registrar.token })).status).toBe(401);
  });

  it('another token for an account without a user (as a recovery from peers brings them back) makes the user the migration would', async () => {
    const id = Number(center.store.prepare("INSERT INTO account (name, role, pseudonymous, created_at) VALUES ('衢州市财政局', 'depositor', 0, 'x') RETURNING id").pluck().get());
    const res = await center.request('POST', '/v1/tokens', { token: center.adminToken, json: { accountId: id } });
    expect(res.status).toBe(201);
    expect(res.body.user).toMatchObject({ accountId: id, role: 'unit-admin', username: `account-${id}`, unitId: expect.any(Number) });
    const unit = await center.request('GET', `/v1/units/${res.body.user.unitId}`, { token: center.adminToken });
    expect(unit.body).toMatchObject({ name: '衢州市财政局', accountId: id });
    const again = await center.request('POST', '/v1/tokens', { token: center.adminToken, json: { accountId: id } });
    expect(again.body.user).toEqual(res.body.user);
  });

  it.each([
    ['an expiry of 0 days', { expiresInDays: 0 }],
    ['an expiry that is not a number', { expiresInDays: '30' }],
    ['an unknown field', { scope: 'all' }],
  ])('refuses %s (INVALID_INPUT)', async (_, json) => {
    const res = await center.request('POST', '/v1/tokens', { token: center.adminToken, json });
    expect([res.status, res.body.error.code]).toEqual([400, 'INVALID_INPUT']);
  });
});
