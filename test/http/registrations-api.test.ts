import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TokenAuthenticator } from '../../src/people/access-tokens.js';
import { makeTestCenter, type TestCenter } from '../helpers/test-center.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const sm3 = (s: string) => createHash('sm3').update(s).digest('hex');

let center: TestCenter;
let depositorA: string;
let depositorB: string;
beforeAll(async () => {
  center = await makeTestCenter();
  depositorA = center.tokenFor('衢州市社保中心', 'depositor');
  depositorB = center.tokenFor('某某建设集团', 'depositor');
});
afterAll(() => center.destroy());

const countRegistrations = () => center.store.prepare('SELECT count(*) FROM registration').pluck().get() as number;

describe('POST /v1/registrations (hash-only)', () => {
  it('answers 201 with a pending registration holding the exact record', async () => {
    const res = await center.request('POST', '/v1/registrations', {
      token: depositorA,
      json: { sha256: sha('a').toUpperCase(), sm3: sm3('a'), category: 'livelihood.social-security', title: '参保证明', size: 1, metadata: { archivalCode: 'J001-2026-Y-0001' } },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      status: 'pending',
      periodId: 1,
      digests: { sha256: sha('a'), sm3: sm3('a') },
      record: {
        format: 'archive-seal/record@1',
        center: 'dev-center',
        registrant: { name: '衢州市社保中心' },
        category: 'livelihood.social-security',
        title: '参保证明',
        deposit: 'hash-only',
        metadata: { archivalCode: 'J001-2026-Y-0001' },
      },
    });
    expect(res.body.record.registrationId).toBe(res.body.id);
    expect(res.body.record.registeredAt).toBe(res.body.registeredAt);
    expect(res.body.salt).toMatch(/^[0-9a-f]{64}$/);
    expect(res.body.proof).toBeUndefined();
  });

  it('returns the existing registration (200) when the same registrant registers the same content', async () => {
    const first = await center.request('POST', '/v1/registrations', { token: depositorA, json: { sha256: sha('dup'), category: 'voluntary.individual' } });
    const again = await center.request('POST', '/v1/registrations', { token: depositorA, json: { sha256: sha('dup'), category: 'voluntary.individual', title: 'other' } });
    const other = await center.request('POST', '/v1/registrations', { token: depositorB, json: { sha256: sha('dup'), category: 'voluntary.individual' } });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    expect(again.body.salt).toBe(first.body.salt);
    expect(other.status).toBe(201);
    expect(other.body.id).not.toBe(first.body.id);
  });

  it('refuses a repeat whose SM3 or size contradicts the registration it repeats (409), and takes one that adds nothing new', async () => {
    const first = await center.request('POST', '/v1/registrations', { token: depositorA, json: { sha256: sha('c'), sm3: sm3('c'), size: 1, category: 'voluntary.individual' } });
    expect(first.status).toBe(201);
    const otherSm3 = await center.request('POST', '/v1/registrations', { token: depositorA, json: { sha256: sha('c'), sm3: sm3('d'), category: 'voluntary.individual' } });
    expect([otherSm3.status, otherSm3.body.error]).toEqual([
      409,
      { code: 'DIGEST_CONFLICT', message: `registration ${first.body.id} of the content with SHA-256 ${sha('c')} gives its SM3 as ${sm3('c')}, not ${sm3('d')}` },
    ]);
    const otherSize = await center.request('POST', '/v1/registrations', { token: depositorA, json: { sha256: sha('c'), size: 2, category: 'voluntary.individual' } });
    expect([otherSize.status, otherSize.body.error.code, otherSize.body.error.message]).toEqual([409, 'DIGEST_CONFLICT', expect.stringContaining('gives its size as 1, not 2')]);
    // Saying less is no contradiction: the earlier registration is the answer.
    const less = await center.request('POST', '/v1/registrations', { token: depositorA, json: { sha256: sha('c').toUpperCase(), category: 'voluntary.individual' } });
    expect([less.status, less.body.id]).toEqual([200, first.body.id]);
    // Within a batch, against the earlier registration or an entry before it: the whole batch is refused.
    const before = countRegistrations();
    for (const entries of [
      [{ sha256: sha('c-new'), category: 'agency.documents' }, { sha256: sha('c'), size: 3, category: 'agency.documents' }],
      [{ sha256: sha('c-new'), size: 5, category: 'agency.documents' }, { sha256: sha('c-new'), size: 6, category: 'agency.documents' }],
    ]) {
      const batch = await center.request('POST', '/v1/registrations/batch', { token: depositorA, json: { entries } });
      expect([batch.status, batch.body.error.code, batch.body.error.message]).toEqual([409, 'DIGEST_CONFLICT', expect.stringMatching(/^entries\[1\]: registration \d+ of the content/)]);
    }
    expect(countRegistrations()).toBe(before);
  });

  it('names a private registrant by a stable pseudonym only', async () => {
    const citizen = center.tokenFor('张三', 'depositor', true);
    const one = await center.request('POST', '/v1/registrations', { token: citizen, json: { sha256: sha('p1'), category: 'voluntary.individual' } });
    const two = await center.request('POST', '/v1/registrations', { token: citizen, json: { sha256: sha('p2'), category: 'voluntary.individual' } });
    expect(one.body.record.registrant).toEqual({ pseudonym: expect.stringMatching(/^anon:[0-9a-f]{32}$/) });
    expect(two.body.record.registrant).toEqual(one.body.record.registrant);
    expect(JSON.stringify(one.body)).not.toContain('张三');
  });

  const bad: [string, unknown, number, string][] = [
    ['malformed JSON', '{"sha256": ', 400, 'INVALID_JSON'],
    ['a digest of the wrong length', { sha256: 'ab'.repeat(31), category: 'voluntary.individual' }, 400, 'INVALID_DIGEST'],
    ['a digest that is not hex', { sha256: 'zz'.repeat(32), category: 'voluntary.individual' }, 400, 'INVALID_DIGEST'],
    ['a bad SM3 digest', { sha256: sha('x'), sm3: '00', category: 'voluntary.individual' }, 400, 'INVALID_DIGEST'],
    ['an unknown category', { sha256: sha('x'), category: 'livelihood.lottery' }, 400, 'UNKNOWN_CATEGORY'],
    ['no category', { sha256: sha('x') }, 400, 'INVALID_INPUT'],
    ['an unknown field', { sha256: sha('x'), category: 'voluntary.individual', fileame: 'a' }, 400, 'INVALID_INPUT'],
    ['a negative size', { sha256: sha('x'), category: 'voluntary.individual', size: -1 }, 400, 'INVALID_INPUT'],
    ['a title with control characters', { sha256: sha('x'), category: 'voluntary.individual', title: 'a\u0000b' }, 400, 'INVALID_TEXT'],
    ['metadata that is not an object', { sha256: sha('x'), category: 'voluntary.individual', metadata: [1] }, 400, 'INVALID_INPUT'],
    ['oversized metadata', { sha256: sha('x'), category: 'voluntary.individual', metadata: { a: 'x'.repeat(20_000) } }, 400, 'METADATA_TOO_LARGE'],
    ['an array body', [], 400, 'INVALID_INPUT'],
    // JSON can carry half of a surrogate pair; UTF-8 and a canonical record cannot.
    ['a title with an unpaired surrogate', { sha256: sha('x'), category: 'voluntary.individual', title: 'a\ud800b' }, 400, 'INVALID_TEXT'],
    ['a file name with an unpaired surrogate', { sha256: sha('x'), category: 'voluntary.individual', fileName: '\udc00.pdf' }, 400, 'INVALID_TEXT'],
    ['metadata with an unpaired surrogate', { sha256: sha('x'), category: 'voluntary.individual', metadata: { a: '\ud800' } }, 400, 'INVALID_TEXT'],
    // A fraction is written differently by RFC 8785 and by common JSON libraries; a larger integer has lost digits.
    ['a fraction in metadata', `{"sha256":"${sha('x')}","category":"voluntary.individual","metadata":{"ratio":0.00001}}`, 400, 'INVALID_INPUT'],
    ['an integer in metadata beyond 2^53', `{"sha256":"${sha('x')}","category":"voluntary.individual","metadata":{"n":[12345678901234567890]}}`, 400, 'INVALID_INPUT'],
  ];
  it.each(bad)('refuses %s with %i %s and writes nothing', async (_what, json, status, code) => {
    const before = countRegistrations();
    const res = await center.request('POST', '/v1/registrations', { token: depositorA, json });
    expect(res.status).toBe(status);
    expect(res.body).toEqual({ error: { code, message: expect.any(String) } });
    expect(countRegistrations()).toBe(before);
  });

  it('refuses a body that is not UTF-8 instead of storing replacement characters', async () => {
    const before = countRegistrations();
    const body = Buffer.concat([Buffer.from(`{"sha256":"${sha('x')}","category":"voluntary.individual","title":"a`), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const res = await center.request('POST', '/v1/registrations', { token: depositorA, body, headers: { 'content-type': 'application/json' } });
    expect([res.status, res.body.error.code, res.body.error.message]).toEqual([400, 'INVALID_JSON', 'the body is not UTF-8 (RFC 8259 §8.1)']);
    expect(countRegistrations()).toBe(before);
  });

  it('names the metadata member whose number it refuses', async () => {
    const res = await center.request('POST', '/v1/registrations', { token: depositorA, json: `{"sha256":"${sha('x')}","category":"voluntary.individual","metadata":{"pages":[1,2.5]}}` });
    expect(res.body.error.message).toBe('metadata.pages[1]: numbers in metadata must be integers from -9007199254740991 to 9007199254740991; send others as strings');
    const ok = await center.request('POST', '/v1/registrations', { token: depositorA, json: { sha256: sha('x'), category: 'voluntary.individual', metadata: { pages: [1, -9007199254740991], ratio: '0.00001' } } });
    expect(ok.status).toBe(201);
    expect(ok.body.record.metadata).toEqual({ pages: [1, -9007199254740991], ratio: '0.00001' });
  });

  it('refuses a body that is neither JSON nor multipart with 415', async () => {
    const res = await center.request('POST', '/v1/registrations', { token: depositorA, body: 'x', headers: { 'content-type': 'text/plain' } });
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses a JSON body over 1 MiB with 413', async () => {
    const res = await center.request('POST', '/v1/registrations', { token: depositorA, json: { sha256: sha('x'), category: 'voluntary.individual', title: 'x'.repeat(1_100_000) } });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });
});

describe('access', () => {
  it('needs a token to register (401 UNAUTHORIZED) and a valid one (401 INVALID_TOKEN)', async () => {
    const none = await center.request('POST', '/v1/registrations', { json: { sha256: sha('t'), category: 'voluntary.individual' } });
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('UNAUTHORIZED');
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    const wrong = await center.request('POST', '/v1/registrations', { token: 'as_' + 'A'.repeat(43), json: { sha256: sha('t'), category: 'voluntary.individual' } });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('INVALID_TOKEN');
    const garbage = await center.request('GET', '/v1/registrations/1', { headers: { authorization: 'Basic Zm9vOmJhcg==' } });
    expect(garbage.body.error.code).toBe('INVALID_TOKEN');
  });

  it('shows a depositor only its own registrations; others look absent', async () => {
    const mine = await center.request('POST', '/v1/registrations', { token: depositorB, json: { sha256: sha('b-own'), category: 'project.as-built-drawings' } });
    expect((await center.request('GET', `/v1/registrations/${mine.body.id}`, { token: depositorB })).status).toBe(200);
    const theirs = await center.request('GET', `/v1/registrations/${mine.body.id}`, { token: depositorA });
    expect(theirs.status).toBe(404);
    expect(theirs.body.error.code).toBe('NOT_FOUND');
    const list = await center.request('GET', '/v1/registrations', { token: depositorA });
    expect(list.body.registrations.length).toBeGreaterThan(0);
    expect(list.body.registrations.every((r: any) => r.record.registrant.name === '衢州市社保中心')).toBe(true);
    const staff = await center.request('GET', `/v1/registrations/${mine.body.id}`, { token: center.tokenFor('窗口登记员', 'registrar') });
    expect(staff.status).toBe(200);
  });

  it('lets only staff seal, and only admins issue tokens', async () => {
    const seal = await center.request('POST', '/v1/periods/seal', { token: depositorA });
    expect(seal.status).toBe(403);
    expect(seal.body.error.code).toBe('FORBIDDEN');
    const token = await center.request('POST', '/v1/tokens', { token: depositorA, json: { name: 'x', role: 'admin' } });
    expect(token.status).toBe(403);
    const made = await center.request('POST', '/v1/tokens', { token: center.adminToken, json: { name: '档案局', role: 'registrar' } });
    expect(made.status).toBe(201);
    expect(made.body.token).toMatch(/^as_/);
    const used = await center.request('GET', '/v1/registrations', { token: made.body.token });
    expect(used.status).toBe(200);
  });

  it('refuses a token of an unknown role, and a promotion of an existing account (400, nothing issued)', async () => {
    const tokensBefore = center.store.prepare('SELECT count(*) FROM api_token').pluck().get();
    const unknown = await center.request('POST', '/v1/tokens', { token: center.adminToken, json: { name: 'x', role: 'root' } });
    expect([unknown.status, unknown.body.error.code]).toEqual([400, 'INVALID_INPUT']);
    // An existing account is named by its id and keeps its role: asking for another is not a promotion.
    const accountId = center.store.prepare("SELECT id FROM account WHERE name = '衢州市社保中心'").pluck().get();
    const promote = await center.request('POST', '/v1/tokens', { token: center.adminToken, json: { accountId, role: 'admin' } });
    expect([promote.status, promote.body.error.code]).toEqual([400, 'INVALID_INPUT']);
    const noName = await center.request('POST', '/v1/tokens', { token: center.adminToken, json: { role: 'depositor' } });
    expect([noName.status, noName.body.error.code]).toEqual([400, 'INVALID_INPUT']);
    expect(center.store.prepare('SELECT count(*) FROM api_token').pluck().get()).toBe(tokensBefore);
    expect((await center.request('POST', '/v1/periods/seal', { token: depositorA })).status).toBe(403);
  });

  it('authenticates a request once, though two route groups share /v1/registrations', async () => {
    const authenticate = vi.spyOn(TokenAuthenticator.prototype, 'authenticate');
    try {
      const res = await center.request('POST', '/v1/registrations', { token: depositorA, json: { sha256: sha('once'), category: 'agency.documents' } });
      expect(res.status).toBe(201);
      expect(authenticate).toHaveBeenCalledTimes(1);
    } finally {
      authenticate.mockRestore();
    }
  });

  it('answers unknown ids 404 and malformed ids 400', async () => {
    expect((await center.request('GET', '/v1/registrations/999999', { token: center.adminToken })).body.error.code).toBe('NOT_FOUND');
    const bad = await center.request('GET', '/v1/registrations/abc', { token: center.adminToken });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('INVALID_ID');
    expect((await center.request('GET', '/v1/periods/0')).body.error.code).toBe('INVALID_ID');
    expect((await center.request('GET', '/v1/periods/4242')).status).toBe(404);
    expect((await center.request('GET', '/v1/nothing')).body.error.code).toBe('ROUTE_NOT_FOUND');
  });

  it('takes a list limit of 0 to 1000 and refuses anything else with 400 (not "no limit", not 500)', async () => {
    await center.request('POST', '/v1/registrations/batch', { token: center.adminToken, json: { entries: [1, 2, 3].map((i) => ({ sha256: sha(`limit-${i}`), category: 'agency.documents' })) } });
    expect((await center.request('GET', '/v1/registrations?limit=2', { token: center.adminToken })).body.registrations).toHaveLength(2);
    for (const bad of ['-1', '0.5', 'abc', '', '1001', '5000']) {
      const res = await center.request('GET', `/v1/registrations?limit=${bad}`, { token: center.adminToken });
      expect([res.status, res.body.error?.code]).toEqual([400, 'INVALID_INPUT']);
      const periods = await center.request('GET', `/v1/periods?limit=${bad}`);
      expect([periods.status, periods.body.error?.code]).toEqual([400, 'INVALID_INPUT']);
    }
  });
});

describe('POST /v1/registrations/batch', () => {
  it('registers up to 10,000 entries in one request', async () => {
    const entries = Array.from({ length: 10_000 }, (_, i) => ({ sha256: sha(`batch-${i}`), category: 'agency.documents' }));
    const res = await center.request('POST', '/v1/registrations/batch', { token: depositorA, json: { entries } });
    expect(res.status).toBe(201);
    expect(res.body.count).toBe(10_000);
    expect(res.body.created).toBe(10_000);
    const ids = res.body.registrations.map((r: any) => r.id);
    expect(new Set(ids).size).toBe(10_000);
    expect(res.body.registrations[9_999]).toMatchObject({ created: true, status: 'pending', digests: { sha256: sha('batch-9999') } });
  });

  it('refuses 10,001 entries with 413 BATCH_TOO_LARGE', async () => {
    const entries = Array.from({ length: 10_001 }, (_, i) => ({ sha256: sha(`over-${i}`), category: 'agency.documents' }));
    const before = countRegistrations();
    const res = await center.request('POST', '/v1/registrations/batch', { token: depositorA, json: { entries } });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('BATCH_TOO_LARGE');
    expect(countRegistrations()).toBe(before);
  });

  it('rejects the whole batch when one entry is bad, naming it, and writes nothing', async () => {
    const entries = [
      { sha256: sha('ok-1'), category: 'agency.documents' },
      { sha256: sha('ok-2'), category: 'no.such' },
    ];
    const before = countRegistrations();
    const res = await center.request('POST', '/v1/registrations/batch', { token: depositorA, json: { entries } });
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({ code: 'UNKNOWN_CATEGORY', message: expect.stringContaining('entries[1].category') });
    expect(countRegistrations()).toBe(before);
  });

  it('marks repeats inside and across batches as existing', async () => {
    const entries = [
      { sha256: sha('rep'), category: 'agency.documents' },
      { sha256: sha('rep'), category: 'agency.documents' },
      { sha256: sha('batch-1'), category: 'agency.documents' },
    ];
    const res = await center.request('POST', '/v1/registrations/batch', { token: depositorA, json: { entries } });
    expect(res.body.created).toBe(1);
    expect(res.body.registrations.map((r: any) => r.created)).toEqual([true, false, false]);
    expect(res.body.registrations[0].id).toBe(res.body.registrations[1].id);
  });

  it('shows a repeat as the earlier registration, sealed once its period is', async () => {
    const entries = [{ sha256: sha('again-1'), sm3: sm3('again-1'), category: 'agency.documents' }, { sha256: sha('again-2'), category: 'agency.documents' }];
    const first = (await center.request('POST', '/v1/registrations/batch', { token: depositorB, json: { entries } })).body.registrations;
    expect((await center.request('POST', '/v1/periods/seal', { token: center.adminToken })).status).toBe(201);
    const again = await center.request('POST', '/v1/registrations/batch', { token: depositorB, json: { entries } });
    expect(again.body.created).toBe(0);
    expect(again.body.registrations).toEqual(first.map((r: any) => ({ ...r, created: false, status: 'sealed' })));
    // The receipt covers the earlier leaves.
    for (const r of again.body.registrations) {
      expect((await center.request('GET', `/v1/registrations/${r.id}`, { token: depositorB })).body.leafHash).toBe(r.leafHash);
    }
  });

  it('says that no certificate will come while the center anchors on no chain, instead of "try again shortly"', async () => {
    const entry = { sha256: sha('no-chain'), category: 'agency.documents' };
    const id = (await center.request('POST', '/v1/registrations/batch', { token: depositorB, json: { entries: [entry] } })).body.registrations[0].id;
    expect((await center.request('POST', '/v1/periods/seal', { token: center.adminToken })).status).toBe(201);
    let answer: { status: number; body: any } | undefined;
    // The built-in TSA stamps the root just after the seal.
    for (let i = 0; i < 100 && !/anchors on no chain/.test(answer?.body.error?.message ?? ''); i++) {
      if (answer) await new Promise((r) => setTimeout(r, 50));
      answer = await center.request('GET', `/v1/registrations/${id}/certificate`, { token: depositorB });
    }
    expect([answer!.status, answer!.body.error.code]).toEqual([409, 'NOT_YET_ANCHORED']);
    expect(answer!.body.error.message).toMatch(/^period \d+ is sealed and timestamped, but this center anchors on no chain \(ARCHIVE_SEAL_CHAINS=none\)/);
  });

  it('refuses an empty batch and a body without entries', async () => {
    expect((await center.request('POST', '/v1/registrations/batch', { token: depositorA, json: { entries: [] } })).body.error.code).toBe('EMPTY_BATCH');
    expect((await center.request('POST', '/v1/registrations/batch', { token: depositorA, json: { nope: 1 } })).body.error.code).toBe('INVALID_INPUT');
    const entries = [{ sha256: sha('strict'), category: 'agency.documents' }];
    // As strict as the single route: a bare list, or a mistyped member beside the entries, is refused.
    for (const json of [entries, { entries, recieptWanted: true }, null, 'x']) {
      const res = await center.request('POST', '/v1/registrations/batch', { token: depositorA, json: JSON.stringify(json) });
      expect([res.status, res.body.error.code]).toEqual([400, 'INVALID_INPUT']);
    }
  });
});

describe('GET /v1/categories', () => {
  it('lists the taxonomy in Chinese and English, publicly', async () => {
    const res = await center.request('GET', '/v1/categories');
    expect(res.status).toBe(200);
    const codes = res.body.categories.map((c: any) => c.code);
    for (const code of ['livelihood.marriage', 'livelihood.migration', 'livelihood.employment', 'livelihood.social-security', 'livelihood.education', 'livelihood.health-care', 'livelihood.deed-tax', 'livelihood.housing-provident-fund', 'project.pre-project', 'project.concealed-works', 'project.as-built-drawings', 'voluntary.individual']) {
      expect(codes).toContain(code);
    }
    expect(res.body.categories.find((c: any) => c.code === 'project.concealed-works')).toMatchObject({ zh: '隐蔽工程档案', en: 'Concealed works records' });
    expect(res.body.groups.livelihood.zh).toBe('民生档案');
  });
});
