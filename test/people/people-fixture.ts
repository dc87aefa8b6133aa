import { expect } from 'vitest';
import type { UserRole } from '../../src/store/database.js';
import type { TestCenter } from '../helpers/test-center.js';

let serial = 0;

/** A unit made by the admin through the API (a valid published credit code of the caller's choosing). */
export async function makeUnit(center: TestCenter, creditCode: string, name = '衢州市民政局'): Promise<{ id: number; accountId: number }> {
  const res = await center.request('POST', '/v1/units', {
    token: center.adminToken,
    json: { name, creditCode, kind: 'agency', region: '柯城区', inTransferScope: true, digitalArchiveRoom: true, contact: '0570-1234567' },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/** A user of `role` (in `unitId` for unit roles) made by the admin, with a token of its own. */
export async function makeUser(
  center: TestCenter,
  role: UserRole,
  options: { unitId?: number; password?: string } = {},
): Promise<{ id: number; username: string; token: string; accountId: number }> {
  const username = `${role}-${++serial}-${process.pid}`;
  const res = await center.request('POST', '/v1/users', {
    token: center.adminToken,
    json: { username, displayName: `测试用户${serial}`, role, ...(options.unitId !== undefined && { unitId: options.unitId }), ...(options.password !== undefined && { password: options.password }) },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const token = await center.request('POST', '/v1/tokens', { token: center.adminToken, json: { userId: res.body.id } });
  expect(token.status, JSON.stringify(token.body)).toBe(201);
  return { id: res.body.id, username, token: token.body.token, accountId: res.body.accountId };
}

/** Codes made up for tests, with the right check character (GB 32100-2015 §4.3). */
export function syntheticCreditCode(n: number): string {
  const set = '0123456789ABCDEFGHJKLMNPQRTUWXY';
  const weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
  const first17 = `11330800MB${String(n).padStart(7, '0')}`;
  const sum = [...first17].reduce((s, c, i) => s + set.indexOf(c) * weights[i]!, 0);
  const check = 31 - (sum % 31);
  return first17 + set[check === 31 ? 0 : check];
}
