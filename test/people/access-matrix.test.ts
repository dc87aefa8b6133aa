import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserRole } from '../../src/store/database.js';
import { makeTestCenter, type TestCenter } from '../helpers/test-center.js';
import { makeUnit, makeUser, syntheticCreditCode } from './people-fixture.js';

// Every role against every route of the people side, and the older routes whose rights the roles
// took over: who may (anything but 401/403/404) and who may not (403 FORBIDDEN or FORBIDDEN_ROLE,
// or 404 where an id must not reveal what exists). Written out by hand, not derived from
// src/people/permissions.ts: the table is what the center promises.

type Who = UserRole | 'anonymous';
const ROLES: Who[] = ['admin', 'registrar', 'auditor', 'unit-admin', 'clerk', 'citizen', 'anonymous'];

let center: TestCenter;
let unitId: number;
let otherUnitId: number;
const tokens = {} as Record<Who, string | undefined>;
let clerkOfUnit: { id: number; token: string };
let serial = 0;

beforeAll(async () => {
  center = await makeTestCenter();
  unitId = (await makeUnit(center, syntheticCreditCode(500))).id;
  otherUnitId = (await makeUnit(center, syntheticCreditCode(501))).id;
  for (const role of ROLES) {
    if (role === 'anonymous') continue;
    tokens[role] = (await makeUser(center, role, { ...((role === 'unit-admin' || role === 'clerk') && { unitId }) })).token;
  }
  clerkOfUnit = await makeUser(center, 'clerk', { unitId });
});
afterAll(() => center.destroy());

interface Route {
  name: string;
  /** The roles that may. */
  may: Who[];
  call: (token: string | undefined) => Promise<{ status: number; body: any }>;
}

const req = (method: string, path: string, token: string | undefined, json?: unknown) =>
  center.request(method, path, { ...(token !== undefined && { token }), ...(json !== undefined && { json }) });

const ROUTES: Route[] = [
  { name: 'POST /v1/units', may: ['admin', 'registrar'], call: (t) => req('POST', '/v1/units', t, { name: '衢州市测试局', creditCode: syntheticCreditCode(600 + ++serial), kind: 'agency', region: '衢州市' }) },
  { name: 'GET /v1/units', may: ['admin', 'registrar', 'auditor', 'unit-admin', 'clerk', 'citizen'], call: (t) => req('GET', '/v1/units', t) },
  { name: 'GET /v1/units/:id (own unit)', may: ['admin', 'registrar', 'auditor', 'unit-admin', 'clerk'], call: (t) => req('GET', `/v1/units/${unitId}`, t) },
  { name: 'GET /v1/units/:id (another unit)', may: ['admin', 'registrar', 'auditor'], call: (t) => req('GET', `/v1/units/${otherUnitId}`, t) },
  { name: 'PATCH /v1/units/:id', may: ['admin', 'registrar'], call: (t) => req('PATCH', `/v1/units/${unitId}`, t, { contact: `联系人 ${++serial}` }) },
  { name: 'POST /v1/units/:id/suspend', may: ['admin', 'registrar'], call: (t) => req('POST', `/v1/units/${otherUnitId}/suspend`, t) },
  { name: 'POST /v1/units/:id/reinstate', may: ['admin', 'registrar'], call: (t) => req('POST', `/v1/units/${otherUnitId}/reinstate`, t) },
  { name: 'POST /v1/users (a clerk of the unit)', may: ['admin', 'registrar', 'unit-admin'], call: (t) => req('POST', '/v1/users', t, { username: `m-clerk-${++serial}`, displayName: '办事员', role: 'clerk', unitId }) },
  { name: 'POST /v1/users (a clerk of another unit)', may: ['admin', 'registrar'], call: (t) => req('POST', '/v1/users', t, { username: `m-other-${++serial}`, displayName: '办事员', role: 'clerk', unitId: otherUnitId }) },
  { name: 'POST /v1/users (an admin)', may: ['admin'], call: (t) => req('POST', '/v1/users', t, { username: `m-admin-${++serial}`, displayName: '管理员', role: 'admin' }) },
  { name: 'POST /v1/users (an auditor)', may: ['admin'], call: (t) => req('POST', '/v1/users', t, { username: `m-auditor-${++serial}`, displayName: '监督员', role: 'auditor' }) },
  { name: 'POST /v1/users (a citizen)', may: ['admin', 'registrar'], call: (t) => req('POST', '/v1/users', t, { username: `m-citizen-${++serial}`, displayName: '王芳', role: 'citizen' }) },
  { name: 'GET /v1/users', may: ['admin', 'registrar', 'auditor', 'unit-admin'], call: (t) => req('GET', '/v1/users', t) },
  { name: 'PATCH /v1/users/:id (a clerk of the unit)', may: ['admin', 'registrar', 'unit-admin'], call: (t) => req('PATCH', `/v1/users/${clerkOfUnit.id}`, t, { displayName: `办事员${++serial}` }) },
  { name: 'GET /v1/tokens', may: ['admin', 'registrar', 'auditor', 'unit-admin', 'clerk', 'citizen'], call: (t) => req('GET', '/v1/tokens', t) },
  { name: 'POST /v1/tokens (own)', may: ['admin', 'registrar', 'unit-admin', 'clerk', 'citizen'], call: (t) => req('POST', '/v1/tokens', t, {}) },
  { name: 'POST /v1/tokens (for a clerk of the unit)', may: ['admin', 'registrar', 'unit-admin'], call: (t) => req('POST', '/v1/tokens', t, { userId: clerkOfUnit.id }) },
  { name: 'POST /v1/tokens (a new account)', may: ['admin'], call: (t) => req('POST', '/v1/tokens', t, { name: '某单位', role: 'depositor' }) },
  {
    name: 'DELETE /v1/tokens/:id (a clerk of the unit\'s)',
    may: ['admin', 'registrar', 'unit-admin'],
    call: async (t) => {
      const made = await req('POST', '/v1/tokens', center.adminToken, { userId: clerkOfUnit.id });
      return req('DELETE', `/v1/tokens/${made.body.id}`, t);
    },
  },
  { name: 'GET /v1/session', may: ['admin', 'registrar', 'auditor', 'unit-admin', 'clerk', 'citizen'], call: (t) => req('GET', '/v1/session', t) },
  {
    name: 'POST /v1/registrations',
    may: ['admin', 'registrar', 'unit-admin', 'clerk', 'citizen'],
    call: (t) => req('POST', '/v1/registrations', t, { sha256: createHash('sha256').update(String(++serial)).digest('hex'), category: 'voluntary.individual' }),
  },
  { name: 'GET /v1/registrations', may: ['admin', 'registrar', 'auditor', 'unit-admin', 'clerk', 'citizen'], call: (t) => req('GET', '/v1/registrations', t) },
  { name: 'POST /v1/periods/seal', may: ['admin', 'registrar'], call: (t) => req('POST', '/v1/periods/seal', t) },
  { name: 'GET /v1/backup/status', may: ['admin', 'registrar', 'auditor'], call: (t) => req('GET', '/v1/backup/status', t) },
  { name: 'POST /v1/backup/audit', may: ['admin'], call: (t) => req('POST', '/v1/backup/audit', t) },
  { name: 'GET /v1/alarms', may: ['admin', 'registrar', 'auditor'], call: (t) => req('GET', '/v1/alarms', t) },
];

const CASES = ROUTES.flatMap((route) => ROLES.map((who) => [route.name, who, route.may.includes(who)] as const));

describe('the access matrix', () => {
  it.each(CASES)('%s as %s: may = %s', async (name, who, may) => {
    const route = ROUTES.find((r) => r.name === name)!;
    const res = await route.call(tokens[who]);
    const what = `${name} as ${who}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`;
    if (who === 'anonymous') {
      expect([res.status, res.body.error?.code], what).toEqual([401, 'UNAUTHORIZED']);
    } else if (may) {
      expect([401, 403, 404], what).not.toContain(res.status);
      expect(res.status, what).toBeLessThan(500);
    } else {
      expect([403, 404], what).toContain(res.status);
      expect(['FORBIDDEN', 'FORBIDDEN_ROLE', 'NOT_FOUND'], what).toContain(res.body.error.code);
    }
  });

  it('a unit-admin asking to make an admin gets FORBIDDEN_ROLE, and no user is made', async () => {
    const before = (await req('GET', '/v1/users?limit=1000', center.adminToken)).body.users.length;
    const res = await req('POST', '/v1/users', tokens['unit-admin'], { username: 'would-be-admin', displayName: '管理员', role: 'admin' });
    expect([res.status, res.body.error.code]).toEqual([403, 'FORBIDDEN_ROLE']);
    expect((await req('GET', '/v1/users?limit=1000', center.adminToken)).body.users.length).toBe(before);
    // Nor can it promote a clerk to registrar.
    const promote = await req('PATCH', `/v1/users/${clerkOfUnit.id}`, tokens['unit-admin'], { role: 'registrar' });
    expect([promote.status, promote.body.error.code]).toEqual([403, 'FORBIDDEN_ROLE']);
  });

  it('a unit-admin lists only its own unit\'s users', async () => {
    const res = await req('GET', '/v1/users?limit=1000', tokens['unit-admin']);
    expect(res.body.users.length).toBeGreaterThan(0);
    expect(new Set(res.body.users.map((u: { unitId: number }) => u.unitId))).toEqual(new Set([unitId]));
  });
});
