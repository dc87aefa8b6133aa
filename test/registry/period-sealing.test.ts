import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hexToBytes } from '../../src/core/hex.js';
import { rootFromProof, verifyInclusionRfc9162 } from '../../src/core/merkle.js';
import { canonicalize } from '../../src/core/canonical-json.js';
import { leafHash } from '../../src/core/merkle.js';
import type { Principal } from '../../src/registry/principal.js';
import { markPeriodSealing, findPeriod, insertOpenPeriod } from '../../src/store/periods-repository.js';
import { makeTestCenter, type TestCenter } from '../helpers/test-center.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
let center: TestCenter;
let registrar: Principal;

beforeEach(async () => {
  center = await makeTestCenter();
  registrar = { accountId: 1, name: 'admin', role: 'admin', pseudonymous: false };
});
afterEach(() => center.destroy());

async function register(n: number, tag: string) {
  const views = [];
  for (let start = 0; start < n; start += 10_000) {
    const outcomes = await center.registrations.register(
      registrar,
      Array.from({ length: Math.min(10_000, n - start) }, (_, i) => ({ sha256: sha(`${tag}-${start + i}`), category: 'agency.documents', hasFile: false })),
    );
    views.push(...outcomes.outcomes.map((o) => o.registration));
  }
  return views;
}

function expectProvable(id: number) {
  const view = center.reader.get(registrar, id);
  expect(view.status).toBe('sealed');
  // Everything needed is in the view: the record's canonical bytes → digest → salted leaf → root.
  const digest = createHash('sha256').update(canonicalize(view.record)).digest();
  expect(digest.toString('hex')).toBe(view.recordDigest.sha256);
  const leaf = leafHash(hexToBytes(view.salt), digest);
  expect(Buffer.from(leaf).toString('hex')).toBe(view.leafHash);
  const period = findPeriod(center.store, view.periodId)!;
  expect(Buffer.from(rootFromProof(leaf, view.proof!.path)).toString('hex')).toBe(period.root!.toString('hex'));
  expect(verifyInclusionRfc9162(leaf, view.proof!, period.root!)).toBe(true);
  expect(view.proof!.treeSize).toBe(period.leaf_count);
}

describe('period sealing', () => {
  it('seals the open period into one root; every registration gets a proof to it', async () => {
    const regs = await register(1500, 'a');
    const period = await center.sealer.seal({ allowEmpty: false });
    expect(period).toMatchObject({ id: 1, status: 'sealed', leaf_count: 1500 });
    expect(period.previous_root!.equals(Buffer.alloc(32))).toBe(true);
    for (const r of [regs[0]!, regs[1]!, regs[511]!, regs[512]!, regs[1023]!, regs[1499]!]) expectProvable(r.id);
    const chunks = center.store.prepare('SELECT count(*) FROM tree_chunk WHERE period_id = 1').pluck().get();
    expect(chunks).toBeGreaterThan(0);
  });

  it('chains each root to the previous non-empty one and skips empty periods', async () => {
    await register(3, 'p1');
    const first = await center.sealer.seal({ allowEmpty: false });
    const empty = await center.sealer.seal({ allowEmpty: true });
    expect(empty).toMatchObject({ id: 2, status: 'sealed', leaf_count: 0, root: null, previous_root: null });
    await register(5, 'p3');
    const third = await center.sealer.seal({ allowEmpty: false });
    expect(third.id).toBe(3);
    expect(third.previous_root!.equals(first.root!)).toBe(true);
  });

  it('refuses an on-demand seal of an empty period with NOTHING_TO_SEAL', async () => {
    await expect(center.sealer.seal({ allowEmpty: false })).rejects.toMatchObject({ code: 'NOTHING_TO_SEAL' });
    const res = await center.request('POST', '/v1/periods/seal', { token: center.adminToken });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('NOTHING_TO_SEAL');
  });

  it('refuses a second seal while one runs with SEAL_IN_PROGRESS', async () => {
    await register(20_000, 'big');
    const running = center.sealer.seal({ allowEmpty: false });
    await expect(center.sealer.seal({ allowEmpty: false })).rejects.toMatchObject({ code: 'SEAL_IN_PROGRESS' });
    await running;
  });

  it('puts registrations that arrive while a period seals into the next period', async () => {
    await register(50_000, 'before');
    const sealing = center.sealer.seal({ allowEmpty: false });
    // The close is synchronous: from here on the open period is the next one.
    const during = await register(10, 'during');
    const sealed = await sealing;
    expect(sealed.leaf_count).toBe(50_000);
    expect(during.every((r) => r.periodId === 2)).toBe(true);
    expect(during.map((r) => r.leafIndex)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await center.sealer.seal({ allowEmpty: false });
    expectProvable(during[9]!.id);
  });

  it('finishes a seal interrupted between closing and storing the tree, with the same root', async () => {
    const regs = await register(777, 'crash');
    // What a crash after the close transaction leaves: the period `sealing`, the next one open.
    center.store.transaction(() => {
      markPeriodSealing(center.store, 1, new Date().toISOString());
      insertOpenPeriod(center.store, new Date().toISOString());
    });
    expect(findPeriod(center.store, 1)!.status).toBe('sealing');
    expect(center.reader.get(registrar, regs[0]!.id).status).toBe('pending');
    const finished = await center.sealer.resume();
    expect(finished.map((p) => p.id)).toEqual([1]);
    expectProvable(regs[776]!.id);
    // The same leaves always give the same root: recompute independently.
    const again = await center.sealer.resume();
    expect(again).toEqual([]);
  });

  it('refuses to seal a period whose stored leaves do not fill its count, and stores no tree', async () => {
    await register(70_000, 'gap'); // more than one read range (65,536 leaves)
    center.store.prepare('DELETE FROM registration WHERE period_id = 1 AND leaf_index = 66000').run();
    await expect(center.sealer.seal({ allowEmpty: false })).rejects.toThrow(/period 1 has 69999 leaves stored, 70000 counted/);
    expect(findPeriod(center.store, 1)!.root).toBeNull();
    expect(center.store.prepare('SELECT count(*) FROM tree_chunk').pluck().get()).toBe(0);
  });

  it('refuses to seal a period with a stored leaf hash that is not 32 bytes, and stores no tree', async () => {
    await register(300, 'short');
    center.store.prepare('UPDATE registration SET leaf_hash = substr(leaf_hash, 1, 31) WHERE period_id = 1 AND leaf_index = 7').run();
    await expect(center.sealer.seal({ allowEmpty: false })).rejects.toThrow(/period 1 has a leaf hash that is not 32 bytes in leaves 0\.\.299/);
    expect(findPeriod(center.store, 1)!.root).toBeNull();
    expect(center.store.prepare('SELECT count(*) FROM tree_chunk').pluck().get()).toBe(0);
  });

  it('shows periods and roots publicly', async () => {
    await register(2, 'pub');
    await center.sealer.seal({ allowEmpty: false });
    const list = await center.request('GET', '/v1/periods');
    expect(list.status).toBe(200);
    expect(list.body.periods.map((p: any) => p.status)).toEqual(['open', 'sealed']);
    const one = await center.request('GET', '/v1/periods/1');
    expect(one.body).toMatchObject({ id: 1, status: 'sealed', leafCount: 2, root: expect.stringMatching(/^[0-9a-f]{64}$/), previousRoot: '0'.repeat(64) });
  });
});
