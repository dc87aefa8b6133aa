import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { periodIdRange, registrationPageQuery } from '../../src/store/registrations-repository.js';
import { appendRegistrations } from '../helpers/bulk-registrations.js';
import { makeTestCenter, type TestCenter } from '../helpers/test-center.js';

// Issue 17, item 9: a page of a 580,000-row period took 3-5 s on the HTTP thread. Every list the
// API serves is a seek in an index: checked here on a million registrations by the query plan of
// every statement each list route runs (no SCAN, no sort in a temporary B-tree), and by paging
// through whole lists (every row once, newest first). Times are measured and printed, not asserted.
const PERIOD_1 = 580_000;
const PERIOD_2 = 420_000;

let center: TestCenter;
let depositorA: { token: string; id: number };
let depositorB: { token: string; id: number };
/** Which account registered row i of a period: every tenth A, a few B, the rest the admin. */
let registrantOf: (i: number) => number;

beforeAll(async () => {
  center = await makeTestCenter();
  const a = center.tokenFor('甲单位', 'depositor');
  const b = center.tokenFor('乙单位', 'depositor');
  const idOf = async (token: string) => {
    const res = await center.request('POST', '/v1/registrations', { token, json: { sha256: 'ab'.repeat(32), category: 'agency.documents' } });
    return center.store.prepare('SELECT registrant_id FROM registration WHERE id = ?').pluck().get(res.body.id) as number;
  };
  depositorA = { token: a, id: await idOf(a) };
  depositorB = { token: b, id: await idOf(b) };
  registrantOf = (i) => (i % 10 === 0 ? depositorA.id : i % 50_000 === 7 ? depositorB.id : 1);
  appendRegistrations(center.store, PERIOD_1 - 2, (i) => registrantOf(i + 2));
  await center.sealer.seal({ allowEmpty: false });
  appendRegistrations(center.store, PERIOD_2, registrantOf);
  // Alarms (a few open among many cleared), events and downloads to list.
  const at = new Date().toISOString();
  center.store.transaction(() => {
    const alarm = center.store.prepare('INSERT INTO alarm (kind, subject, message, raised_at, last_seen_at, count, cleared_at) VALUES (?, ?, ?, ?, ?, 1, ?)');
    for (let i = 0; i < 20_000; i++) alarm.run('audit-failed', `blob ${i}`, 'm', at, at, i % 5_000 === 0 ? null : at);
    const event = center.store.prepare("INSERT INTO preservation_event (event_type, event_at, object_kind, object_id, copy, agent, outcome, detail) VALUES (?, ?, 'blob', ?, 'local', 'test', ?, 'd')");
    for (let i = 0; i < 50_000; i++) event.run(i % 3 === 0 ? 'fixity check' : 'replication', at, `obj-${i % 1_000}`, i % 997 === 0 ? 'failure' : 'success');
    const download = center.store.prepare("INSERT INTO download (registration_id, account_id, started_at, outcome) VALUES (?, 1, ?, 'complete')");
    for (let i = 0; i < 3_000; i++) download.run(3, at);
  });
}, 180_000);
afterAll(async () => {
  await center?.destroy();
});

const admin = () => center.adminToken;

/** Every list route, as a user calls it (a path and a token). */
const LIST_CALLS: [string, () => string][] = [
  ['/v1/registrations?limit=100', admin],
  ['/v1/registrations?period=1&limit=1', admin],
  ['/v1/registrations?period=1&limit=100&before=300000', admin],
  ['/v1/registrations?period=2&limit=100', admin],
  ['/v1/registrations?limit=100', () => depositorA.token],
  ['/v1/registrations?period=1&limit=100&before=500000', () => depositorA.token],
  ['/v1/registrations?period=2&limit=100', () => depositorB.token],
  ['/v1/periods', admin],
  ['/v1/periods?before=2&limit=10', admin],
  ['/v1/periods/1', admin],
  ['/v1/alarms', admin],
  ['/v1/alarms?all=1&limit=100', admin],
  ['/v1/alarms?before=15000', admin],
  ['/v1/backup/events?limit=100', admin],
  ['/v1/backup/events?type=replication&before=40000', admin],
  ['/v1/backup/events?type=fixity%20check&outcome=failure', admin],
  ['/v1/backup/events?outcome=failure', admin],
  ['/v1/backup/events?object=obj-7', admin],
  ['/v1/backup/downloads?registration=3&limit=100', admin],
  ['/v1/backup/downloads?registration=3&after=2000', admin],
  ['/v1/backup/status', admin],
  ['/v1/backup/status?kind=blob', admin],
  ['/v1/backup/status?belowMinimum=1', admin],
  ['/v1/backup/status?belowMinimum=1&kind=period&limit=10', admin],
];

/** Statements a list route runs that are not a seek (none now: the backup status reads kept counts). */
const KNOWN_AGGREGATES: RegExp[] = [];

describe('lists on a million registrations', () => {
  it('are index seeks: every statement a list route runs, by its query plan', async () => {
    const statements = new Set<string>();
    const prepare = center.store.prepare.bind(center.store);
    center.store.prepare = (source: string) => {
      statements.add(source);
      return prepare(source);
    };
    try {
      for (const [path, token] of LIST_CALLS) {
        const res = await center.request('GET', path, { token: token() });
        expect(res.status, path).toBe(200);
      }
    } finally {
      center.store.prepare = prepare;
    }
    const plans: { sql: string; plan: string[] }[] = [];
    for (const sql of statements) {
      if (!/^\s*select/i.test(sql) || KNOWN_AGGREGATES.some((r) => r.test(sql.trim()))) continue;
      const parameters = Array.from({ length: (sql.match(/\?/g) ?? []).length }, () => 1);
      const plan = (center.store.sqlite.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...parameters) as { detail: string }[]).map((r) => r.detail);
      plans.push({ sql, plan });
    }
    expect(plans.length).toBeGreaterThan(10);
    // No statement reads a whole table; no page (a LIMIT) is sorted after it is read (a period's
    // few anchors may be).
    const bad = plans.filter(({ sql, plan }) => plan.some((d) => /^SCAN/.test(d) || (/ limit \?/i.test(sql) && /TEMP B-TREE/.test(d))));
    expect(bad, bad.map((b) => `${b.sql}\n  ${b.plan.join('\n  ')}`).join('\n')).toEqual([]);
    for (const { plan } of plans) expect(plan.some((d) => d.startsWith('SEARCH'))).toBe(true);
  });

  it('cover every row once, newest first, page by page (by period, by registrant, all)', () => {
    // The list's own query (listRegistrations), reading the id, period and registrant of each row
    // rather than whole rows: a million whole rows as objects would take a minute here.
    const pageThrough = (options: { registrantId?: number; periodId?: number }) => {
      const ids: number[] = [];
      let before: number | undefined;
      const range = options.periodId !== undefined ? periodIdRange(center.store, options.periodId) : undefined;
      if (options.periodId !== undefined && !range) return ids;
      for (;;) {
        const query = registrationPageQuery({ ...options, ...(before !== undefined && { before }) });
        const sql = query.sql.replace('SELECT *', 'SELECT id, period_id, registrant_id');
        expect(sql).not.toBe(query.sql);
        const page = center.store.sqlite.prepare(sql).raw().all(...query.parameters(1000, range)) as [number, number, number][];
        if (page.length === 0) return ids;
        for (const [id, periodId, registrantId] of page) {
          if (options.periodId !== undefined && periodId !== options.periodId) expect.fail(`row ${id} is in period ${periodId}`);
          if (options.registrantId !== undefined && registrantId !== options.registrantId) expect.fail(`row ${id} is ${registrantId}'s`);
          ids.push(id);
        }
        before = page.at(-1)![0];
      }
    };
    const check = (ids: number[], expected: number) => {
      expect(ids.length).toBe(expected);
      for (let i = 1; i < ids.length; i++) if (!(ids[i]! < ids[i - 1]!)) expect.fail(`ids out of order or repeated at ${i}: ${ids[i - 1]}, ${ids[i]}`);
    };
    check(pageThrough({ periodId: 1 }), PERIOD_1);
    check(pageThrough({ periodId: 2 }), PERIOD_2);
    check(pageThrough({}), PERIOD_1 + PERIOD_2);
    const count = (n: number, who: number, offset = 0) => Array.from({ length: n }, (_, i) => registrantOf(i + offset)).filter((r) => r === who).length;
    const aInPeriod1 = count(PERIOD_1 - 2, depositorA.id, 2) + 1;
    const aInPeriod2 = count(PERIOD_2, depositorA.id);
    check(pageThrough({ registrantId: depositorA.id }), aInPeriod1 + aInPeriod2);
    check(pageThrough({ registrantId: depositorA.id, periodId: 1 }), aInPeriod1);
    check(pageThrough({ registrantId: depositorB.id, periodId: 2 }), count(PERIOD_2, depositorB.id));
    expect(pageThrough({ periodId: 3 })).toEqual([]);
  }, 120_000);

  it('pages through the API with before: the next page starts below the last id', async () => {
    const first = await center.request('GET', '/v1/registrations?period=1&limit=3', { token: admin() });
    expect(first.body.registrations.map((r: { id: number }) => r.id)).toEqual([PERIOD_1, PERIOD_1 - 1, PERIOD_1 - 2]);
    expect(first.body.registrations[0].proof.treeSize).toBe(PERIOD_1);
    const next = await center.request('GET', `/v1/registrations?period=1&limit=3&before=${PERIOD_1 - 2}`, { token: admin() });
    expect(next.body.registrations.map((r: { id: number }) => r.id)).toEqual([PERIOD_1 - 3, PERIOD_1 - 4, PERIOD_1 - 5]);
    const mine = await center.request('GET', '/v1/registrations?period=2&limit=1000', { token: depositorB.token });
    expect(mine.body.registrations.length).toBeGreaterThan(0);
    expect(mine.body.registrations.every((r: { periodId: number }) => r.periodId === 2)).toBe(true);
    const alarms = await center.request('GET', '/v1/alarms', { token: admin() });
    expect(alarms.body.alarms.map((a: { id: number }) => a.id)).toEqual([15_001, 10_001, 5_001, 1]);
    const downloads = await center.request('GET', '/v1/backup/downloads?registration=3&after=2990', { token: admin() });
    expect(downloads.body.downloads.map((d: { id: number }) => d.id)).toEqual([2991, 2992, 2993, 2994, 2995, 2996, 2997, 2998, 2999, 3000]);
  });

  it('measures each list route (printed, not asserted)', async () => {
    const lines: string[] = [];
    for (const [path, token] of LIST_CALLS) {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const start = performance.now();
        await center.request('GET', path, { token: token() });
        times.push(performance.now() - start);
      }
      times.sort((x, y) => x - y);
      lines.push(`${times[2]!.toFixed(2).padStart(8)} ms  (max ${times[4]!.toFixed(2)})  GET ${path}${token === admin ? '' : ' (depositor)'}`);
    }
    console.log(`list routes on ${PERIOD_1 + PERIOD_2} registrations, median of 5 in-process requests:\n${lines.join('\n')}`);
  });
});
