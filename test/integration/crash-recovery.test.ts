import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { hexToBytes } from '../../src/core/hex.js';
import { verifyInclusionRfc9162 } from '../../src/core/merkle.js';
import { insertOpenPeriod, markPeriodSealing } from '../../src/store/periods-repository.js';
import { openCenterStore } from '../helpers/test-database.js';
import { api, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// kill -9 at the worst moments; after a restart nothing acknowledged is lost and no period is
// half-sealed.
const dir = makeTempDir();
let server: ServerProcess | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});
afterAll(() => dir.remove());

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

function consistency(dataDir: string) {
  const db = openCenterStore(dataDir, { readonly: true });
  try {
    const periods = db.prepare('SELECT id, status, leaf_count FROM period ORDER BY id').all() as { id: number; status: string; leaf_count: number }[];
    for (const p of periods) {
      const { n, maxIndex } = db.prepare('SELECT count(*) AS n, max(leaf_index) AS "maxIndex" FROM registration WHERE period_id = ?').get(p.id) as { n: number; maxIndex: number | null };
      expect(n, `period ${p.id} count`).toBe(p.leaf_count);
      expect(maxIndex ?? -1).toBe(p.leaf_count - 1);
    }
    return { periods, total: db.prepare('SELECT count(*) FROM registration').pluck().get() as number };
  } finally {
    db.close();
  }
}

describe('crash recovery', () => {
  it('loses no acknowledged registration when killed mid-traffic', async () => {
    const dataDir = join(dir.path, 'traffic');
    server = await startServerProcess(dataDir);
    const acknowledged: number[] = [];
    let stop = false;
    const client = async (c: number) => {
      for (let i = 0; !stop; i++) {
        try {
          const res = await api(server!.url, server!.adminToken, 'POST', '/v1/registrations', { sha256: sha(`t${c}-${i}`), category: 'agency.documents' });
          if (res.status === 201) acknowledged.push(res.body.id);
        } catch {
          return; // connection refused or reset: the server is gone
        }
      }
    };
    const clients = Array.from({ length: 8 }, (_, c) => client(c));
    // Killed once traffic is well under way, however fast the machine is.
    for (let waited = 0; acknowledged.length <= 200 && waited < 60_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    await server.kill();
    stop = true;
    await Promise.all(clients);
    expect(acknowledged.length).toBeGreaterThan(50);

    server = await startServerProcess(dataDir);
    const state = consistency(dataDir);
    expect(state.total).toBeGreaterThanOrEqual(acknowledged.length);
    for (const id of acknowledged.slice(-20)) {
      expect((await api(server.url, server.adminToken, 'GET', `/v1/registrations/${id}`)).status).toBe(200);
    }
  });

  it('finishes at start, once, a period a crash left closed but not sealed', async () => {
    // The kill below lands wherever the machine's speed puts it; this makes the state it aims at.
    const dataDir = join(dir.path, 'closed');
    server = await startServerProcess(dataDir);
    const entries = Array.from({ length: 3_000 }, (_, i) => ({ sha256: sha(`c-${i}`), category: 'agency.documents' }));
    expect((await api(server.url, server.adminToken, 'POST', '/v1/registrations/batch', { entries })).status).toBe(201);
    await server.kill();
    server = undefined;
    // What the close transaction leaves when the process dies right after it.
    const store = openCenterStore(dataDir);
    store.transaction(() => {
      markPeriodSealing(store, 1, new Date().toISOString());
      insertOpenPeriod(store, new Date().toISOString());
    });
    store.close();
    expect(consistency(dataDir).periods.map((p) => p.status)).toEqual(['sealing', 'open']);

    server = await startServerProcess(dataDir);
    const period = (await api(server.url, undefined, 'GET', '/v1/periods/1')).body;
    expect(period).toMatchObject({ status: 'sealed', leafCount: 3_000 });
    const r = (await api(server.url, server.adminToken, 'GET', '/v1/registrations/2999')).body;
    expect(verifyInclusionRfc9162(hexToBytes(r.leafHash), r.proof, hexToBytes(period.root))).toBe(true);
    // Sealed once: one stored tree, and a second start finds nothing left to finish.
    await server.stop();
    server = await startServerProcess(dataDir);
    expect((await api(server.url, undefined, 'GET', '/v1/periods/1')).body.root).toBe(period.root);
    expect(consistency(dataDir).periods.map((p) => p.status)).toEqual(['sealed', 'open']);
  });

  it('finishes a seal cut by kill -9 at restart: the period ends sealed once, with a provable root', async () => {
    const dataDir = join(dir.path, 'seal');
    server = await startServerProcess(dataDir);
    const total = 200_000;
    for (let start = 0; start < total; start += 10_000) {
      const entries = Array.from({ length: 10_000 }, (_, i) => ({ sha256: sha(`s-${start + i}`), category: 'agency.documents' }));
      expect((await api(server.url, server.adminToken, 'POST', '/v1/registrations/batch', { entries })).status).toBe(201);
    }
    void api(server.url, server.adminToken, 'POST', '/v1/periods/seal').catch(() => undefined);
    // Kill as soon as the period is closed (or, on a fast machine, already sealed).
    for (let i = 0; i < 500; i++) {
      const p = (await api(server.url, undefined, 'GET', '/v1/periods/1')).body;
      if (p.status !== 'open') break;
      await new Promise((r) => setTimeout(r, 5));
    }
    await server.kill();
    const before = consistency(dataDir);
    expect(['open', 'sealing', 'sealed']).toContain(before.periods[0]!.status);
    // Never half: a period not sealed has no stored tree and no root.
    if (before.periods[0]!.status !== 'sealed') {
      const db = openCenterStore(dataDir, { readonly: true });
      expect(db.prepare('SELECT count(*) FROM tree_chunk WHERE period_id = 1').pluck().get()).toBe(0);
      expect(db.prepare('SELECT root FROM period WHERE id = 1').pluck().get()).toBeNull();
      db.close();
    }

    server = await startServerProcess(dataDir);
    const after = consistency(dataDir);
    expect(after.total).toBe(total);
    let period = (await api(server.url, undefined, 'GET', '/v1/periods/1')).body;
    if (period.status === 'open') {
      // Killed before the close: sealing now must still work.
      expect((await api(server.url, server.adminToken, 'POST', '/v1/periods/seal')).status).toBe(201);
      period = (await api(server.url, undefined, 'GET', '/v1/periods/1')).body;
    }
    expect(period).toMatchObject({ status: 'sealed', leafCount: total });
    for (const id of [1, 100_000, total]) {
      const r = (await api(server.url, server.adminToken, 'GET', `/v1/registrations/${id}`)).body;
      expect(verifyInclusionRfc9162(hexToBytes(r.leafHash), r.proof, hexToBytes(period.root))).toBe(true);
    }
  });
});
