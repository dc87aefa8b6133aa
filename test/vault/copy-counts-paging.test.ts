import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { insertVaultBlob, setBlobStatus } from '../../src/store/blobs-repository.js';
import { MIGRATIONS } from '../../src/store/migrations/index.js';
import { ensureReplica, markReplicaUnreachable, markReplicaVerified } from '../../src/store/replicas-repository.js';
import { backupStatus } from '../../src/vault/backup-status.js';
import { makeTestCenter, type TestCenter } from '../helpers/test-center.js';
import { TEST_ENGINE } from '../helpers/test-database.js';

// Issue 17: the backup status counted every blob's copies on each call. Its totals now come from
// counts kept with each change, and the objects below the minimum are listed a page at a time
// (`next` → `after`). Here, on 3,000 blobs with 0 to 3 verified copies (ties in time included),
// the totals and the pages must say exactly what counting every row says, each object once.
// On PostgreSQL each repository call is a round trip: fewer blobs, still many pages of 100.
const BLOBS = TEST_ENGINE === 'postgres' ? 800 : 3_000;
const PEERS = ['center-b', 'center-c'];
let center: TestCenter;

const sha = (i: number) => createHash('sha256').update(`blob ${i}`).digest();

beforeAll(async () => {
  center = await makeTestCenter({ ARCHIVE_SEAL_MIN_COPIES: '3' });
  const store = center.store;
  store.transaction(() => {
    for (let i = 0; i < BLOBS; i++) {
      // Ten blobs share each second: the cursor must step over ties.
      const at = new Date(Date.parse('2026-12-01T00:00:00Z') + Math.floor(i / 10) * 1000).toISOString();
      insertVaultBlob(store, {
        sha256: sha(i),
        sm3: sha(i),
        size: 10,
        cipher_size: 20,
        cipher_sha256: null,
        wrapped_key: Buffer.alloc(0),
        master_key_id: 'k',
        status: 'ok',
        created_at: at,
        checked_at: null,
      });
      const object = sha(i).toString('hex');
      for (const [p, peer] of PEERS.entries()) {
        ensureReplica(store, { kind: 'blob', object, peer, now: at });
        if ((i + p) % 3 !== 0) markReplicaVerified(store, { kind: 'blob', object, peer }, { revision: 'r', confirmedHash: 'h', at });
      }
      if (i % 7 === 0) setBlobStatus(store, sha(i), 'damaged', at);
      if (i % 11 === 0) markReplicaUnreachable(store, { kind: 'blob', object, peer: 'center-b' });
    }
  });
}, 120_000);
afterAll(() => center?.destroy());

/** What counting every row gives: each blob's verified copies (local ok, peers verified and not unreachable). */
function countedByScan(): Map<string, number> {
  const copies = new Map<string, number>();
  for (const b of center.store.prepare('SELECT sha256, status FROM vault_blob').all() as { sha256: Buffer; status: string }[]) {
    copies.set(b.sha256.toString('hex'), b.status === 'ok' ? 1 : 0);
  }
  const replicas = center.store
    .prepare("SELECT object FROM replica WHERE kind = 'blob' AND status = 'verified' AND coalesce(audit_outcome, '') != 'unreachable'")
    .pluck()
    .all() as string[];
  for (const object of replicas) copies.set(object, copies.get(object)! + 1);
  return copies;
}

const status = async (query: string) => {
  const res = await center.request('GET', `/v1/backup/status${query}`, { token: center.adminToken });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
};

it('gives the totals counting every row gives', async () => {
  const counted = countedByScan();
  const below = [...counted.values()].filter((n) => n < 3).length;
  expect(below).toBeGreaterThan(BLOBS / 3);
  expect(below).toBeLessThan(BLOBS);
  const s = await status('?limit=0');
  expect(s.blobs).toEqual({ total: BLOBS, belowMinimum: below });
  // The peers' figures too, against grouping every replica row of each peer.
  const viewed = backupStatus(center.store, { minCopies: 3, peers: PEERS.map((id) => ({ id, url: `https://${id}.invalid` })), limit: 0 });
  for (const id of PEERS) {
    const rows = center.store.prepare("SELECT status, coalesce(audit_outcome, '') AS outcome, count(*) AS n FROM replica WHERE peer = ? GROUP BY 1, 2").all(id) as { status: string; outcome: string; n: number }[];
    const n = (f: (r: { status: string; outcome: string }) => boolean) => rows.filter(f).reduce((sum, r) => sum + r.n, 0);
    expect(viewed.peers.find((p) => p.id === id)).toMatchObject({
      verified: n((r) => r.status === 'verified' && r.outcome !== 'unreachable'),
      unreachable: n((r) => r.status === 'verified' && r.outcome === 'unreachable'),
      pending: n((r) => r.status === 'pending'),
      damagedOrMissing: 0,
    });
  }
});

it('lists every object below the minimum exactly once, page by page, fewest copies first and newest first', async () => {
  const counted = countedByScan();
  const expected = [...counted].filter(([, n]) => n < 3).map(([id]) => id).sort();
  const seen: { id: string; copies: number }[] = [];
  let after: string | undefined;
  let pages = 0;
  for (;;) {
    const s = await status(`?belowMinimum=1&kind=blob&limit=100${after ? `&after=${after}` : ''}`);
    pages++;
    expect(s.items.length).toBeLessThanOrEqual(100);
    for (const item of s.items) {
      expect(item.belowMinimum).toBe(true);
      expect(item.verifiedCopies).toBe(counted.get(item.id));
      seen.push({ id: item.id, copies: item.verifiedCopies });
    }
    if (!s.next) break;
    expect(s.items.length).toBe(100);
    after = s.next;
  }
  expect(pages).toBe(Math.ceil(expected.length / 100));
  expect(seen.map((s) => s.id).sort()).toEqual(expected);
  for (let i = 1; i < seen.length; i++) expect(seen[i]!.copies).toBeGreaterThanOrEqual(seen[i - 1]!.copies);
});

it('refuses a cursor it did not make (400), and a cursor without belowMinimum', async () => {
  for (const query of ['?belowMinimum=1&after=abc', '?belowMinimum=1&after=' + Buffer.from('["x",1,"",""]').toString('base64url'), '?after=' + Buffer.from('["blob",0,"",""]').toString('base64url')]) {
    const res = await center.request('GET', `/v1/backup/status${query}`, { token: center.adminToken });
    expect([query, res.status, res.body.error?.code]).toEqual([query, 400, 'INVALID_INPUT']);
  }
});

it('gives the same counts when an existing database is migrated (the migration counts what is there)', async () => {
  const migration = MIGRATIONS['2026-12-08T0300-copy-counts']!;
  const kept = () => ({
    counts: center.store.prepare('SELECT kind, object, copies, created_at FROM copy_count ORDER BY kind, object').all(),
    totals: center.store.prepare('SELECT kind, copies, objects FROM copy_count_total WHERE objects != 0 ORDER BY kind, copies').all(),
    replicas: center.store.prepare('SELECT peer, kind, state, replicas FROM replica_total WHERE replicas != 0 ORDER BY peer, kind, state').all(),
  });
  const before = kept();
  expect(before.counts.length).toBe(BLOBS);
  await migration.down!(center.store.db);
  await migration.up(center.store.db);
  expect(kept()).toEqual(before);
});
