import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openCenterStore } from '../helpers/test-database.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, CLI, runCli } from '../helpers/server-process.js';
import { startExternalChain, type ExternalChain } from '../helpers/external-chain.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { eventually, makeFederation, type PeerCenter } from '../vault/peer-fixture.js';
import { TEST_ENGINE } from '../helpers/test-database.js';

// `recover` rebuilds a SQLite registry (on PostgreSQL: recover, then `db copy`; test/store/database-copy.test.ts).
const RECOVERY_NOT_ON_POSTGRES = TEST_ENGINE === 'postgres';

// Issue 17, "How we will know": kill -9 under load at moments a seeded PRNG picks (CRASH_SEED):
// center A takes registrations and uploads from several clients, seals every 2 s, anchors on a
// chain outside its data directory and replicates to center B; A is killed mid-traffic (and B
// once, mid-replication), restarted, killed again. Then A's data directory is lost and rebuilt
// from B by `recover`, itself killed part way and run again. After each restart and at the end,
// every registration that got an answer is found, with its digest, none twice, and every sealed
// period holding registrations is anchored once. Counts are printed.
const SEED = Number(process.env.CRASH_SEED ?? 17);
const ROUNDS = 3;

const dir = makeTempDir();
let a: PeerCenter;
let b: PeerCenter;
let chain: ExternalChain;

beforeAll(async () => {
  const federation = await makeFederation(dir.path, ['center-a', 'center-b']);
  a = federation[0]!;
  b = federation[1]!;
  mkdirSync(join(dir.path, 'chain-dir'));
  chain = await startExternalChain(join(dir.path, 'chain-dir'), { confirmations: 1 });
  a.env.ARCHIVE_SEAL_CHAINS = chain.chainsFile;
  a.env.ARCHIVE_SEAL_SEAL_SCHEDULE = 'every:2s';
  await Promise.all([a.start(), b.start()]);
}, 120_000);
afterAll(async () => {
  for (const c of [a, b]) await c?.server?.kill().catch(() => {});
  await chain?.stop();
  dir.remove();
});

function prng(seed: number) {
  let s = seed >>> 0;
  return (lo: number, hi: number) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return lo + Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * (hi - lo));
  };
}
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

/** Registrations that got a 201 or 200: id and SHA-256. */
const answered = new Map<number, string>();
let uploadsAnswered = 0;

/** Clients posting hash-only registrations and small uploads until `stop()`; a refused connection ends a client. */
function load(round: number) {
  let stopped = false;
  const url = a.server!.url;
  const token = a.server!.adminToken;
  const client = async (c: number) => {
    for (let i = 0; !stopped; i++) {
      try {
        if (c === 0 && i % 4 === 0) {
          const file = randomBytes(20_000 + i);
          const form = new FormData();
          form.append('category', 'agency.documents');
          form.append('file', new Blob([new Uint8Array(file)]), `r${round}-${i}.pdf`);
          const res = await fetch(`${url}/v1/registrations`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
          const body = (await res.json()) as { id: number };
          if (res.status === 201 || res.status === 200) {
            answered.set(body.id, sha(file));
            uploadsAnswered++;
          }
        } else {
          const digest = sha(`crash-${SEED}-${round}-${c}-${i}`);
          const res = await api(url, token, 'POST', '/v1/registrations', { sha256: digest, category: 'agency.documents' });
          if (res.status === 201 || res.status === 200) answered.set(res.body.id, digest);
        }
      } catch {
        return; // the server is gone
      }
    }
  };
  const clients = Array.from({ length: 4 }, (_, c) => client(c));
  return {
    stop: async () => {
      stopped = true;
      await Promise.all(clients);
    },
  };
}

/** Every answered registration is found with its digest; no content twice; each period's leaves whole. */
async function checkAnswered(c: PeerCenter): Promise<number> {
  let found = 0;
  const ids = [...answered.keys()];
  for (let i = 0; i < ids.length; i += 16) {
    const batch = await Promise.all(ids.slice(i, i + 16).map((id) => api(c.server!.url, c.server!.adminToken, 'GET', `/v1/registrations/${id}`)));
    batch.forEach((res, j) => {
      expect(res.status, `registration ${ids[i + j]}`).toBe(200);
      expect(res.body.digests.sha256).toBe(answered.get(ids[i + j]!));
      found++;
    });
  }
  const db = openCenterStore(c.dataDir, { readonly: true });
  try {
    expect(db.prepare('SELECT count(*) FROM (SELECT registrant_id, sha256 FROM registration GROUP BY registrant_id, sha256 HAVING count(*) > 1) AS d').pluck().get()).toBe(0);
    for (const p of db.prepare('SELECT id, leaf_count FROM period').all() as { id: number; leaf_count: number }[]) {
      const { n, top } = db.prepare('SELECT count(*) AS n, coalesce(max(leaf_index), -1) AS top FROM registration WHERE period_id = ?').get(p.id) as { n: number; top: number };
      expect([n, top], `period ${p.id}`).toEqual([p.leaf_count, p.leaf_count - 1]);
    }
  } finally {
    db.close();
  }
  return found;
}

/** Every sealed period with registrations is anchored, and once, on the chain. */
async function checkAnchoredOnce(c: PeerCenter): Promise<number> {
  const periods = (await api(c.server!.url, undefined, 'GET', '/v1/periods?limit=1000')).body.periods as { id: number; status: string; leafCount: number }[];
  const sealed = periods.filter((p) => p.status === 'sealed' && p.leafCount > 0).map((p) => p.id);
  await eventually(async () => {
    const events = await chain.anchorEvents();
    return sealed.every((id) => events.get(id) === 1) ? true : undefined;
  }, `periods ${sealed.join(', ')} anchored`, 60_000);
  const events = await chain.anchorEvents();
  for (const [id, count] of events) expect(count, `period ${id} anchored`).toBe(1);
  return sealed.length;
}

describe.skipIf(RECOVERY_NOT_ON_POSTGRES)('kill -9 under load, during replication and during recover', () => {
  it('finds every answered registration once, and anchors each period once', async () => {
    const random = prng(SEED);
    const report: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const traffic = load(round);
      const before = answered.size;
      // Wait until traffic is under way, then a seeded moment more.
      await eventually(async () => (answered.size > before + 50 ? true : undefined), 'traffic', 60_000);
      await sleep(random(0, 1500));
      if (round === 1) {
        await b.server!.kill(); // the peer goes too, mid-replication
        b.server = undefined;
        await sleep(random(0, 500));
      }
      await a.server!.kill();
      await traffic.stop();
      report.push(`round ${round}: killed after ${answered.size - before} answers`);
      if (!b.server) await b.start();
      await a.start();
      expect(await checkAnswered(a)).toBe(answered.size);
    }
    const sealedBefore = await checkAnchoredOnce(a);

    // Everything has reached B (sealed periods in bundles, the open one in journal segments): with
    // the schedule off, so that no new period is being sealed while this is waited for.
    await a.stop();
    a.env.ARCHIVE_SEAL_SEAL_SCHEDULE = 'off';
    await a.start();
    let last: unknown;
    await eventually(async () => {
      const s = (await api(a.server!.url, a.server!.adminToken, 'GET', '/v1/backup/status')).body;
      last = { blobs: s.blobs, periods: s.periods, peers: s.peers, unsealed: s.unsealed };
      return s.blobs.belowMinimum === 0 && s.periods.belowMinimum === 0 && s.peers[0].pending === 0 && s.unsealed.atPeers[0].registrations === s.unsealed.registrations ? true : undefined;
    }, 'every copy at center-b', 90_000).catch((err: Error) => {
      throw new Error(`${err.message}; last status ${JSON.stringify(last)}`);
    });
    const keyFile = join(dir.path, 'offline', 'master-key.txt');
    expect((await runCli(['keys', 'export-master', '--out', keyFile], { ARCHIVE_SEAL_DATA_DIR: a.dataDir })).code).toBe(0);

    // The disaster, and a recovery killed part way at a seeded moment, then run again.
    await a.stop();
    rmSync(a.dataDir, { recursive: true, force: true });
    const recoverArgs = ['recover', '--from-peer', b.peerUrl, '--data-dir', a.dataDir, '--master-key', keyFile];
    const child = spawn(process.execPath, [CLI, ...recoverArgs], { env: { ...process.env, ...a.env }, stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const killAfter = random(100, 1500);
    await Promise.race([sleep(killAfter), exited]);
    child.kill('SIGKILL');
    await exited;
    report.push(`recover killed after ${killAfter} ms (exit ${child.exitCode ?? child.signalCode})`);
    const rerun = await runCli(recoverArgs, a.env);
    expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0);
    await a.start();
    const found = await checkAnswered(a);
    const sealedAfter = await checkAnchoredOnce(a);
    report.push(`registrations answered ${answered.size} (uploads ${uploadsAnswered}), found after the last restart and the recovery ${found}; sealed periods anchored once: ${sealedBefore} before, ${sealedAfter} after`);
    console.log(`crash test (seed ${SEED}):\n  ${report.join('\n  ')}`);
    expect(found).toBe(answered.size);
  }, 400_000);
});
