import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestCenter, type TestCenter } from '../helpers/test-center.js';
import { makeUnit, makeUser, syntheticCreditCode } from './people-fixture.js';

let center: TestCenter;
beforeAll(async () => {
  center = await makeTestCenter();
});
afterAll(() => center.destroy());

const post = (json: unknown, token = center.adminToken) => center.request('POST', '/v1/units', { token, json });
const valid = (n: number) => ({ name: '衢州市自然资源和规划局', creditCode: syntheticCreditCode(n), kind: 'agency', region: '衢州市' });

describe('/v1/units', () => {
  it('makes a unit with every field, and shows it back', async () => {
    const res = await post({ ...valid(1), kind: 'public-institution', region: '江山市', inTransferScope: true, digitalArchiveRoom: false, contact: '张三 0570-8888888' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: '衢州市自然资源和规划局',
      creditCode: syntheticCreditCode(1),
      kind: 'public-institution',
      region: '江山市',
      inTransferScope: true,
      digitalArchiveRoom: false,
      contact: '张三 0570-8888888',
      status: 'active',
    });
    const got = await center.request('GET', `/v1/units/${res.body.id}`, { token: center.adminToken });
    expect(got.body).toEqual(res.body);
  });

  it('refuses a second unit with the same credit code: DUPLICATE_UNIT 409, and makes nothing', async () => {
    const first = await post(valid(2));
    expect(first.status).toBe(201);
    const before = (await center.request('GET', '/v1/units?limit=1000', { token: center.adminToken })).body.units.length;
    const again = await post({ ...valid(2), name: '另一个单位' });
    expect([again.status, again.body.error.code]).toEqual([409, 'DUPLICATE_UNIT']);
    expect((await center.request('GET', '/v1/units?limit=1000', { token: center.adminToken })).body.units.length).toBe(before);
    // Nor may another unit take it by an edit.
    const other = await post(valid(3));
    const edit = await center.request('PATCH', `/v1/units/${other.body.id}`, { token: center.adminToken, json: { creditCode: syntheticCreditCode(2) } });
    expect([edit.status, edit.body.error.code]).toEqual([409, 'DUPLICATE_UNIT']);
  });

  it.each([
    ['a wrong check character', { creditCode: '914403001922038217' }, 400, 'INVALID_CREDIT_CODE'],
    ['17 characters', { creditCode: '91440300192203821' }, 400, 'INVALID_CREDIT_CODE'],
    ['a lower-case code', { creditCode: '9144030071526726xg' }, 400, 'INVALID_CREDIT_CODE'],
    ['a number for the code', { creditCode: 914403001922038216 }, 400, 'INVALID_CREDIT_CODE'],
    ['no name', { name: undefined }, 400, 'INVALID_INPUT'],
    ['a name without Chinese', { name: 'Quzhou Civil Affairs Bureau' }, 400, 'INVALID_TEXT'],
    ['a name with a bidi override', { name: '衢州\u202e民政局' }, 400, 'INVALID_TEXT'],
    ['an empty name', { name: '   ' }, 400, 'INVALID_TEXT'],
    ['an unknown kind', { kind: 'company' }, 400, 'INVALID_INPUT'],
    ['a region not the center\'s', { region: '杭州市' }, 400, 'UNKNOWN_REGION'],
    ['a flag that is not a boolean', { inTransferScope: 'yes' }, 400, 'INVALID_INPUT'],
    ['an unknown field', { fonds: 'J001' }, 400, 'INVALID_INPUT'],
  ])('refuses %s', async (_, change, status, code) => {
    const res = await post({ ...valid(100), ...change });
    expect([res.status, res.body.error.code]).toEqual([status, code]);
  });

  it('accepts the published code of a real company', async () => {
    const res = await post({ name: '华为技术有限公司', creditCode: '914403001922038216', kind: 'private-enterprise', region: '衢州市' });
    expect(res.status).toBe(201);
  });

  it('takes its regions from ARCHIVE_SEAL_REGIONS', async () => {
    const other = await makeTestCenter({ ARCHIVE_SEAL_REGIONS: '杭州市,西湖区' });
    try {
      const post = (region: string) => other.request('POST', '/v1/units', { token: other.adminToken, json: { ...valid(4), region } });
      expect((await post('西湖区')).status).toBe(201);
      expect((await post('柯城区')).body.error.code).toBe('UNKNOWN_REGION');
    } finally {
      await other.destroy();
    }
  });

  it('edits the fields given; new registrations name the unit by its new name', async () => {
    const unit = await makeUnit(center, syntheticCreditCode(5), '衢州市旧名局');
    const clerk = await makeUser(center, 'clerk', { unitId: unit.id });
    const res = await center.request('PATCH', `/v1/units/${unit.id}`, { token: center.adminToken, json: { name: '衢州市新名局', region: '开化县', inTransferScope: false } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: '衢州市新名局', region: '开化县', inTransferScope: false, digitalArchiveRoom: true });
    const reg = await center.request('POST', '/v1/registrations', { token: clerk.token, json: { sha256: createHash('sha256').update('rename').digest('hex'), category: 'voluntary.individual' } });
    expect(reg.status).toBe(201);
    expect(reg.body.record.registrant).toEqual({ id: `account:${unit.accountId}`, name: '衢州市新名局' });
    const empty = await center.request('PATCH', `/v1/units/${unit.id}`, { token: center.adminToken, json: {} });
    expect(empty.body.error.code).toBe('INVALID_INPUT');
    const none = await center.request('PATCH', '/v1/units/999999', { token: center.adminToken, json: { region: '开化县' } });
    expect([none.status, none.body.error.code]).toEqual([404, 'NOT_FOUND']);
  });

  it('a suspended unit\'s users can no longer act, at once; reinstated, they can again', async () => {
    const unit = await makeUnit(center, syntheticCreditCode(6));
    const clerk = await makeUser(center, 'clerk', { unitId: unit.id });
    expect((await center.request('GET', '/v1/registrations', { token: clerk.token })).status).toBe(200);
    const suspended = await center.request('POST', `/v1/units/${unit.id}/suspend`, { token: center.adminToken });
    expect(suspended.body.status).toBe('suspended');
    const refused = await center.request('GET', '/v1/registrations', { token: clerk.token });
    expect([refused.status, refused.body.error.code]).toEqual([401, 'INVALID_TOKEN']);
    await center.request('POST', `/v1/units/${unit.id}/reinstate`, { token: center.adminToken });
    expect((await center.request('GET', '/v1/registrations', { token: clerk.token })).status).toBe(200);
  });

  it('a unit\'s users see their own unit only; another unit is 404', async () => {
    const a = await makeUnit(center, syntheticCreditCode(7));
    const b = await makeUnit(center, syntheticCreditCode(8));
    const clerk = await makeUser(center, 'clerk', { unitId: a.id });
    const list = await center.request('GET', '/v1/units', { token: clerk.token });
    expect(list.body.units.map((u: { id: number }) => u.id)).toEqual([a.id]);
    expect((await center.request('GET', `/v1/units/${a.id}`, { token: clerk.token })).status).toBe(200);
    const other = await center.request('GET', `/v1/units/${b.id}`, { token: clerk.token });
    expect([other.status, other.body.error.code]).toEqual([404, 'NOT_FOUND']);
  });
});
