import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword, hashPassword } from '../../src/people/passwords.js';
import { makeTestCenter, type TestCenter } from '../helpers/test-center.js';
import { makeUnit, makeUser, syntheticCreditCode } from './people-fixture.js';

let center: TestCenter;
beforeAll(async () => {
  center = await makeTestCenter();
});
afterAll(() => center.destroy());

const PASSWORD = '衢州 records 2026!';

async function login(username: string, password: string, url = 'http://127.0.0.1/v1/session', headers: Record<string, string> = {}) {
  const res = await center.app.request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ username, password }) });
  return { status: res.status, body: (await res.json()) as any, cookie: res.headers.get('set-cookie'), headers: res.headers };
}

function cookieValue(setCookie: string | null): string {
  const match = /archive_seal_session=([^;]+)/.exec(setCookie ?? '');
  if (!match) throw new Error(`no session cookie in ${setCookie}`);
  return `archive_seal_session=${match[1]}`;
}

async function withCookie(method: string, path: string, cookie: string, headers: Record<string, string> = {}, json?: unknown) {
  const res = await center.app.request(`http://127.0.0.1${path}`, {
    method,
    headers: { cookie, ...headers, ...(json !== undefined && { 'content-type': 'application/json' }) },
    ...(json !== undefined && { body: JSON.stringify(json) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

describe('passwords', () => {
  it('are scrypt hashes that name their parameters, salted, and only the right password matches', async () => {
    const a = await hashPassword(PASSWORD);
    const b = await hashPassword(PASSWORD);
    expect(a).toMatch(/^scrypt\$15\$8\$3\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword(PASSWORD, a)).toBe(true);
    expect(await verifyPassword(PASSWORD + ' ', a)).toBe(false);
    expect(await verifyPassword(PASSWORD, 'scrypt$15$8$3$bad')).toBe(false);
  });
});

describe('POST /v1/session', () => {
  it('signs in with a password: an HttpOnly, SameSite=Strict cookie (not Secure over plain HTTP) that opens the API', async () => {
    const user = await makeUser(center, 'registrar', { password: PASSWORD });
    const res = await login(user.username, PASSWORD);
    expect(res.status).toBe(201);
    expect(res.body.user).toMatchObject({ username: user.username, role: 'registrar' });
    expect(res.cookie).toMatch(/HttpOnly/);
    expect(res.cookie).toMatch(/SameSite=Strict/);
    expect(res.cookie).not.toMatch(/Secure/);
    const cookie = cookieValue(res.cookie);
    expect((await withCookie('GET', '/v1/registrations', cookie)).status).toBe(200);
    expect((await withCookie('GET', '/v1/session', cookie)).body.user.username).toBe(user.username);
  });

  it('sets Secure on the cookie when the request came over TLS', async () => {
    const user = await makeUser(center, 'clerk', { unitId: (await makeUnit(center, syntheticCreditCode(20))).id, password: PASSWORD });
    const res = await login(user.username, PASSWORD, 'https://records.example.gov.cn/v1/session');
    expect(res.status).toBe(201);
    expect(res.cookie).toMatch(/; Secure/);
  });

  it('stores the session id only hashed', async () => {
    const user = await makeUser(center, 'registrar', { password: PASSWORD });
    const res = await login(user.username, PASSWORD);
    const id = /archive_seal_session=([^;]+)/.exec(res.cookie!)![1]!;
    const rows = center.store.prepare('SELECT session_hash FROM user_session').all() as { session_hash: Buffer }[];
    for (const row of rows) expect(row.session_hash.toString('base64url')).not.toBe(id);
    expect(rows.some((r) => r.session_hash.equals(createHash('sha256').update(id).digest()))).toBe(true);
  });

  it('after logout the cookie, replayed, is 401', async () => {
    const user = await makeUser(center, 'registrar', { password: PASSWORD });
    const cookie = cookieValue((await login(user.username, PASSWORD)).cookie);
    // Used first, so the center remembers it (as it does tokens): the logout must still hold at once.
    expect((await withCookie('GET', '/v1/registrations', cookie)).status).toBe(200);
    expect((await withCookie('DELETE', '/v1/session', cookie)).status).toBe(204);
    const replayed = await withCookie('GET', '/v1/registrations', cookie);
    expect([replayed.status, replayed.body.error.code]).toEqual([401, 'INVALID_SESSION']);
  });

  it('refuses a wrong password and an unknown user alike (INVALID_CREDENTIALS 401)', async () => {
    const user = await makeUser(center, 'registrar', { password: PASSWORD });
    const wrong = await login(user.username, 'not the password at all');
    const unknown = await login('nobody-here', PASSWORD);
    expect([wrong.status, wrong.body.error.code]).toEqual([401, 'INVALID_CREDENTIALS']);
    expect([unknown.status, unknown.body.error.code]).toEqual([401, 'INVALID_CREDENTIALS']);
    expect(wrong.body.error.message).toBe(unknown.body.error.message);
    // A user without a password (tokens only) cannot sign in with any.
    const tokenOnly = await makeUser(center, 'registrar');
    expect((await login(tokenOnly.username, '')).body.error.code).toBe('INVALID_CREDENTIALS');
  });

  it('locks a user after 5 wrong passwords: ACCOUNT_LOCKED (423), even with the right one, for 15 minutes; 20 guesses get no further', async () => {
    const user = await makeUser(center, 'registrar', { password: PASSWORD });
    const codes: string[] = [];
    for (let i = 0; i < 20; i++) codes.push((await login(user.username, `guess number ${i}!`)).body.error.code);
    expect(codes.slice(0, 4)).toEqual(Array(4).fill('INVALID_CREDENTIALS'));
    expect(codes.slice(4)).toEqual(Array(16).fill('ACCOUNT_LOCKED'));
    const right = await login(user.username, PASSWORD);
    expect([right.status, right.body.error.code]).toEqual([423, 'ACCOUNT_LOCKED']);
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(14 * 60);
    const row = center.store.prepare('SELECT locked_until FROM app_user WHERE id = ?').get(user.id) as { locked_until: string };
    expect(Date.parse(row.locked_until) - Date.now()).toBeGreaterThan(14 * 60_000);
    // When the lock has run out, the right password works (and clears the count).
    center.store.prepare('UPDATE app_user SET locked_until = ? WHERE id = ?').run(new Date(Date.now() - 1000).toISOString(), user.id);
    expect((await login(user.username, PASSWORD)).status).toBe(201);
  });

  it('refuses a state-changing request with the cookie from another origin (CSRF_REJECTED), allows its own', async () => {
    const user = await makeUser(center, 'registrar', { password: PASSWORD });
    const cookie = cookieValue((await login(user.username, PASSWORD)).cookie);
    const json = { sha256: 'cd'.repeat(32), category: 'voluntary.individual' };
    const cross = await withCookie('POST', '/v1/registrations', cookie, { origin: 'https://evil.example' }, json);
    expect([cross.status, cross.body.error.code]).toEqual([403, 'CSRF_REJECTED']);
    const same = await withCookie('POST', '/v1/registrations', cookie, { origin: 'http://127.0.0.1' }, json);
    expect(same.status).toBe(201);
  });

  it('a new password ends the user\'s sessions and lifts a lock', async () => {
    const user = await makeUser(center, 'registrar', { password: PASSWORD });
    const cookie = cookieValue((await login(user.username, PASSWORD)).cookie);
    expect((await withCookie('GET', '/v1/registrations', cookie)).status).toBe(200);
    const changed = await center.request('PATCH', `/v1/users/${user.id}`, { token: center.adminToken, json: { password: 'another long password' } });
    expect(changed.status).toBe(200);
    expect((await withCookie('GET', '/v1/registrations', cookie)).status).toBe(401);
    expect((await login(user.username, 'another long password')).status).toBe(201);
  });

  it.each([
    ['not JSON fields', { user: 'x', password: 'y' }],
    ['a number for a password', { username: 'x', password: 1 }],
  ])('refuses %s (INVALID_INPUT)', async (_, json) => {
    const res = await center.request('POST', '/v1/session', { json });
    expect([res.status, res.body.error.code]).toEqual([400, 'INVALID_INPUT']);
  });
});
