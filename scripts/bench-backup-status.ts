// Times `GET /v1/backup/status` (its totals, and its below-minimum page) on a vault of N blobs,
// each with a copy at one peer (a tenth of them not verified), and a year of sealed periods:
//   npx tsx scripts/bench-backup-status.ts [blobs=200000]
// Prints the median of 20 calls of each. Run it on an older checkout to compare (it uses only
// the Store, plain inserts and backupStatus, and backfills the kept counts when the schema has them).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MIGRATIONS } from '../src/store/migrations/index.js';
import { Store } from '../src/store/store.js';
import { backupStatus } from '../src/vault/backup-status.js';

const BLOBS = Number(process.argv[2] ?? 200_000);
const PERIODS = 365;
const PEER = { id: 'center-b', url: 'https://center-b.invalid' };
const dir = mkdtempSync(join(tmpdir(), 'bench-backup-status-'));
try {
  const store = await Store.open({ file: join(dir, 'bench.sqlite'), synchronous: 'NORMAL' });
  const start = Date.parse('2026-01-01T00:00:00Z');
  const blobInsert = store.sqlite.prepare(
    "INSERT INTO vault_blob (sha256, sm3, size, cipher_size, cipher_sha256, wrapped_key, master_key_id, status, created_at) VALUES (?, ?, 1000, 1100, NULL, x'00', 'k', 'ok', ?)",
  );
  const replicaInsert = store.sqlite.prepare(
    "INSERT INTO replica (kind, object, peer, status, next_attempt_at, created_at, confirmed_at, confirmed_hash) VALUES (?, ?, 'center-b', ?, ?, ?, ?, 'x')",
  );
  const periodInsert = store.sqlite.prepare("INSERT INTO period (status, opened_at, closed_at, sealed_at, leaf_count) VALUES ('sealed', ?, ?, ?, 0)");
  store.transaction(() => {
    for (let i = 0; i < BLOBS; i++) {
      const sha = randomBytes(32);
      const at = new Date(start + i * 1000).toISOString();
      blobInsert.run(sha, randomBytes(32), at);
      replicaInsert.run('blob', sha.toString('hex'), i % 10 === 0 ? 'pending' : 'verified', at, at, at);
    }
    for (let p = 1; p <= PERIODS; p++) {
      const at = new Date(start + p * 86_400_000).toISOString();
      periodInsert.run(at, at, at);
      replicaInsert.run('period', String(p), 'verified', at, at, at);
    }
  });
  const kept = MIGRATIONS['2026-12-08T0300-copy-counts'];
  if (kept) {
    // The rows went in without the repositories: count them as the migration does on an existing database.
    const t0 = performance.now();
    await kept.down!(store.db);
    await kept.up(store.db);
    console.log(`backfill of the kept counts (migration): ${(performance.now() - t0).toFixed(0)} ms`);
  }
  const time = (what: string, fn: () => unknown) => {
    const runs: number[] = [];
    let result: unknown;
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      result = fn();
      runs.push(performance.now() - t0);
    }
    runs.sort((a, b) => a - b);
    console.log(`${what}: median ${runs[10]!.toFixed(2)} ms, max ${runs[19]!.toFixed(2)} ms`);
    return result as ReturnType<typeof backupStatus>;
  };
  const totals = time(`status totals (limit=0), ${BLOBS} blobs`, () => backupStatus(store, { minCopies: 2, peers: [PEER], limit: 0 }));
  console.log(`  blobs ${JSON.stringify(totals.blobs)} periods ${JSON.stringify(totals.periods)}`);
  const below = time(`status ?belowMinimum=1&limit=100`, () => backupStatus(store, { minCopies: 2, peers: [PEER], limit: 100, belowMinimumOnly: true }));
  console.log(`  items ${below.items.length}`);
  time(`status (newest 100 of each kind)`, () => backupStatus(store, { minCopies: 2, peers: [PEER], limit: 100 }));
  store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
