import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { buildCenter, type Center } from '../../src/server.js';
import { upsertHeldCopy } from '../../src/store/replicas-repository.js';
import { makeTestCenter, type TestCenter } from '../helpers/test-center.js';
import { testDatabaseEnv } from '../helpers/test-database.js';

// The copies a center keeps for its peers are a file and a row each; a kill between the two (or
// between a row's delete and its file's unlink, as when a sealed period's bundle replaces its
// journal segments) leaves a file no row names, which nothing would ever read or remove. The next
// start removes those, and the temporary files of writes cut short; files with a row stay.
let first: TestCenter;
let restarted: Center | undefined;
const sha = 'ab'.padEnd(64, '0');
let kept: string[];
let stray: string[];

beforeAll(async () => {
  first = await makeTestCenter();
  const held = first.backup.held;
  const at = new Date().toISOString();
  kept = [held.journalPath('center-x', '3:10-12'), held.bundlePath('center-x', 2), held.blobPath('center-x', sha)];
  upsertHeldCopy(first.store, { origin: 'center-x', kind: 'journal', object: '3:10-12', size: 1, received: 1, sha256: 'x', complete: 1, received_at: at, updated_at: at });
  upsertHeldCopy(first.store, { origin: 'center-x', kind: 'period', object: '2', size: 1, received: 1, sha256: 'x', complete: 1, received_at: at, updated_at: at });
  upsertHeldCopy(first.store, { origin: 'center-x', kind: 'blob', object: sha, size: 1, received: 1, sha256: 'x', complete: 1, received_at: at, updated_at: at });
  stray = [
    held.journalPath('center-x', '2:1-9'), // dropped with its row when period 2's bundle came
    held.bundlePath('center-x', 3), // written, its row never
    join(dirname(held.bundlePath('center-x', 2)), '.2.bundle.0a1b2c3d4e5f.tmp'), // a write cut short
    held.blobPath('center-x', 'cd'.padEnd(64, '1')),
    `${held.blobPath('center-x', 'cd'.padEnd(64, '2'))}.part`,
    held.signedPath('center-x', 'certificates', '1-4'),
  ];
  for (const path of [...kept, ...stray]) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, 'x');
  }
  await first.close();
  const config = loadConfig({ ARCHIVE_SEAL_DATA_DIR: first.dataDir, ARCHIVE_SEAL_SEAL_SCHEDULE: 'off', ARCHIVE_SEAL_CHAINS: 'none', ...(await testDatabaseEnv(first.dataDir)) });
  const logs: string[] = [];
  restarted = await buildCenter(config, (line) => logs.push(line));
  (restarted as Center & { logs?: string[] }).logs = logs;
});
afterAll(async () => {
  await restarted?.close();
  rmSync(first.dataDir, { recursive: true, force: true });
});

it('removes at start the held files no row names, and keeps those a row names', () => {
  for (const path of stray) expect([path, existsSync(path)]).toEqual([path, false]);
  for (const path of kept) expect([path, existsSync(path)]).toEqual([path, true]);
  expect((restarted as Center & { logs: string[] }).logs).toContain(`removed ${stray.length} file(s) held for peers that no record names (a kill between a copy's file and its record)`);
});
