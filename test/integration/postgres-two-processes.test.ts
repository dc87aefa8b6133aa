import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hexToBytes } from '../../src/core/hex.js';
import { verifyInclusionRfc9162 } from '../../src/core/merkle.js';
import { startExternalChain, waitFor, type ExternalChain } from '../helpers/external-chain.js';
import { api, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { openCenterStore, TEST_ENGINE } from '../helpers/test-database.js';

// Two API processes on one PostgreSQL database and one data directory (issue 18): registrations
// arrive at both; the process doing the background work is killed (kill -9) in the middle of a
// seal; the other takes over. Every answered registration ends in exactly one sealed period, its
// proof folds to the period's root, and every period is anchored once.
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(TEST_ENGINE !== 'postgres')('two processes on one PostgreSQL database', () => {
  const dir = makeTempDir();
  const dataDir = join(dir.path, 'data');
  let chain: ExternalChain;
  const servers: ServerProcess[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    chain = await startExternalChain(dir.path, { confirmations: 1 });
    env = { ARCHIVE_SEAL_CHAINS: chain.chainsFile, ARCHIVE_SEAL_DUTIES_POLL_MS: '300', ARCHIVE_SEAL_ANCHOR_RESEND_AFTER_MS: '1000' };
  });
  afterAll(async () => {
    for (const s of servers) await s.stop();
    await chain?.stop();
    dir.remove();
  });

  it('registers through both, survives the kill -9 of the sealing process mid-seal, and seals and anchors every period once', async () => {
    const a = await startServerProcess(dataDir, env);
    servers.push(a);
    const b = await startServerProcess(dataDir, env);
    servers.push(b);
    // The first holds the duties; the second says it serves and waits.
    expect(b.output()).toMatch(/another process does the center's background work/);
    const token = a.adminToken;

    // Load on both: single registrations and batches, each answer remembered.
    const answered = new Map<number, string>();
    let stopLoad = false;
    const load = async (server: ServerProcess, tag: string) => {
      for (let n = 0; !stopLoad; n++) {
        if (n % 5 === 0) {
          const entries = Array.from({ length: 1_000 }, (_, i) => ({ sha256: sha(`${tag}-${n}-${i}`), category: 'agency.documents' }));
          const res = await api(server.url, token, 'POST', '/v1/registrations/batch', { entries }).catch(() => undefined);
          if (res?.status === 201) res.body.registrations.forEach((r: { id: number }, i: number) => answered.set(r.id, entries[i]!.sha256));
        } else {
          const digest = sha(`${tag}-${n}`);
          const res = await api(server.url, token, 'POST', '/v1/registrations', { sha256: digest, category: 'agency.documents' }).catch(() => undefined);
          if (res?.status === 201) answered.set(res.body.id, digest);
        }
      }
    };
    const loads = [load(a, 'a'), load(b, 'b'), load(b, 'b2')];
    // A period large enough that its seal takes a while: the kill lands in it (or just before or after).
    await waitFor('traffic on both', async () => (answered.size > 20_000 ? true : undefined), 120_000);

    // The seal starts in A (the duties' holder); A dies as soon as the period is closed.
    void api(a.url, token, 'POST', '/v1/periods/seal').catch(() => undefined);
    for (let i = 0; i < 400; i++) {
      const p = (await api(b.url, undefined, 'GET', '/v1/periods/1')).body;
      if (p.status !== 'open') break;
      await sleep(5);
    }
    const atKill = (await api(b.url, undefined, 'GET', '/v1/periods/1')).body.status;
    await a.kill();
    console.log(`two processes: period 1 was ${atKill} when the sealing process was killed; ${answered.size} answered so far`);
    // B takes the duties over and finishes period 1 while registrations go on arriving at it.
    await waitFor('period 1 sealed by the other process', async () => ((await api(b.url, undefined, 'GET', '/v1/periods/1')).body.status === 'sealed' ? true : undefined), 60_000);
    expect(b.output()).toMatch(/took over the center's background work/);
    await sleep(500);
    stopLoad = true;
    await Promise.all(loads);
    // A seal through B, the holder now, after the load.
    expect((await api(b.url, token, 'POST', '/v1/periods/seal')).status).toBe(201);

    // A token revoked through one process is refused by the other at once (nothing is remembered
    // across requests on PostgreSQL). A third process stands in for the killed one.
    const c = await startServerProcess(dataDir, env);
    servers.push(c);
    const made = await api(b.url, token, 'POST', '/v1/tokens', { expiresInDays: 30 });
    expect(made.status).toBe(201);
    expect((await api(c.url, made.body.token, 'GET', '/v1/tokens')).status).toBe(200);
    expect((await api(b.url, token, 'DELETE', `/v1/tokens/${made.body.id}`)).status).toBe(200);
    expect((await api(c.url, made.body.token, 'GET', '/v1/tokens')).status).toBe(401);

    const store = openCenterStore(dataDir);
    try {
      const periods = store.prepare("SELECT id, leaf_count, root FROM period WHERE status = 'sealed' AND leaf_count > 0 ORDER BY id").all() as { id: number; leaf_count: number; root: Buffer }[];
      expect(periods.length).toBeGreaterThanOrEqual(2);
      // Every answered registration once, in a sealed period, with its digest; leaf indexes dense.
      const rows = store.prepare("SELECT r.id, r.sha256, r.period_id, p.status FROM registration r JOIN period p ON p.id = r.period_id").all() as { id: number; sha256: Buffer; period_id: number; status: string }[];
      const byId = new Map(rows.map((r) => [r.id, r]));
      expect(byId.size).toBe(rows.length);
      for (const [id, digest] of answered) {
        const row = byId.get(id);
        expect(row, `registration ${id}`).toBeDefined();
        expect(row!.sha256.toString('hex')).toBe(digest);
        expect(row!.status).toBe('sealed');
      }
      for (const p of periods) {
        const { n, top } = store.prepare('SELECT count(*) AS n, coalesce(max(leaf_index), -1) AS top FROM registration WHERE period_id = ?').get(p.id) as { n: number; top: number };
        expect([n, top], `period ${p.id}`).toEqual([p.leaf_count, p.leaf_count - 1]);
      }
      // Proofs fold, for a sample across every sealed period.
      const sample = [...answered.keys()].filter((_, i) => i % Math.max(1, Math.floor(answered.size / 40)) === 0);
      for (const id of sample) {
        const r = (await api(b.url, token, 'GET', `/v1/registrations/${id}`)).body;
        const root = periods.find((p) => p.id === r.periodId)!.root;
        expect(verifyInclusionRfc9162(hexToBytes(r.leafHash), r.proof, root)).toBe(true);
      }
      // Anchored once each, on chain, with the roots in the registry.
      await waitFor(
        'every period anchored',
        async () => {
          const events = await chain.anchorEvents();
          return periods.every((p) => events.get(p.id) === 1) ? true : undefined;
        },
        60_000,
      );
      const events = await chain.anchorEvents();
      for (const [id, count] of events) expect(count, `period ${id} anchored`).toBe(1);
      expect(store.prepare("SELECT count(*) FROM anchor WHERE status IN ('sent', 'confirmed') GROUP BY period_id HAVING count(*) > 1").all()).toEqual([]);
    } finally {
      store.close();
    }
  }, 240_000);
});
