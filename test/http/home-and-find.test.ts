import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestCenter, type TestCenter } from '../helpers/test-center.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

let center: TestCenter;
beforeAll(async () => {
  center = await makeTestCenter({ ARCHIVE_SEAL_CENTER_NAME: '衢州市档案馆 <登记备份中心>' });
});
afterAll(() => center.destroy());

describe('GET /', () => {
  it('answers a small Chinese-first page linking the verifier and the API, with security headers', async () => {
    const res = await center.request('GET', '/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html; charset=UTF-8/i);
    const html = res.body as string;
    expect(html).toContain('<html lang="zh-CN">');
    expect(html).toContain('电子文件和数字档案登记备份中心');
    expect(html).toContain('<h1>衢州市档案馆 &#60;登记备份中心&#62;</h1>'); // the configured name, escaped
    expect(html).toContain('href="/verify"');
    expect(html).toContain('href="/v1/periods"');
    expect(html).not.toMatch(/<script|https?:\/\//); // no script, nothing from elsewhere
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    expect(csp).toContain(`'sha256-${createHash('sha256').update(style).digest('base64')}'`);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('other methods on / are still a JSON 404', async () => {
    const res = await center.request('POST', '/');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('ROUTE_NOT_FOUND');
  });
});

describe('GET /v1/registrations?sha256=', () => {
  let depositorA: string;
  let depositorB: string;
  const ids: Record<string, number> = {};
  beforeAll(async () => {
    depositorA = center.tokenFor('衢州市民政局', 'depositor');
    depositorB = center.tokenFor('柯城区民政局', 'depositor');
    for (const [key, token, content] of [['aX', depositorA, 'x'], ['bX', depositorB, 'x'], ['bY', depositorB, 'y']] as const) {
      const res = await center.request('POST', '/v1/registrations', { token, json: { sha256: sha(content), category: 'livelihood.marriage', title: `${key} 婚姻登记表` } });
      expect(res.status).toBe(201);
      ids[key] = res.body.id;
    }
  });

  it('gives staff every registration of that content, newest first, and nothing else', async () => {
    const res = await center.request('GET', `/v1/registrations?sha256=${sha('x').toUpperCase()}`, { token: center.adminToken });
    expect(res.status).toBe(200);
    expect(res.body.registrations.map((r: { id: number }) => r.id)).toEqual([ids.bX, ids.aX]);
    expect(res.body.registrations[0].record.title).toBe('bX 婚姻登记表');
  });

  it("gives a depositor only its own", async () => {
    const res = await center.request('GET', `/v1/registrations?sha256=${sha('x')}`, { token: depositorA });
    expect(res.body.registrations.map((r: { id: number }) => r.id)).toEqual([ids.aX]);
    const none = await center.request('GET', `/v1/registrations?sha256=${sha('y')}`, { token: depositorA });
    expect(none.body.registrations).toEqual([]);
  });

  it('refuses a digest that is not 64 hex digits (400 INVALID_DIGEST)', async () => {
    const res = await center.request('GET', '/v1/registrations?sha256=abc', { token: center.adminToken });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_DIGEST');
  });
});

describe('an unknown category', () => {
  it('is refused with the code meant, when one is close', async () => {
    for (const [given, meant] of [['marriage', 'livelihood.marriage'], ['婚姻', 'livelihood.marriage'], ['livelyhood.mariage', 'livelihood.marriage'], ['voluntary.indivdual', 'voluntary.individual']]) {
      const res = await center.request('POST', '/v1/registrations', { token: center.adminToken, json: { sha256: sha('z'), category: given } });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('UNKNOWN_CATEGORY');
      expect(res.body.error.message).toContain(`did you mean ${meant},`);
    }
    const far = await center.request('POST', '/v1/registrations', { token: center.adminToken, json: { sha256: sha('z'), category: 'qqqqqqqq' } });
    expect(far.body.error.message).not.toContain('did you mean');
  });
});
