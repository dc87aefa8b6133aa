import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { recoverFromPeer } from '../../src/vault/disaster-recovery.js';
import { frameBundle, signPeriodBundle } from '../../src/vault/period-bundle.js';
import type { Peer } from '../../src/vault/peer-client.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { makeTestCenter, type TestCenter } from '../helpers/test-center.js';
import { TEST_ENGINE } from '../helpers/test-database.js';

// `recover` rebuilds a SQLite registry (on PostgreSQL: recover, then `db copy`; test/store/database-copy.test.ts).
const RECOVERY_NOT_ON_POSTGRES = TEST_ENGINE === 'postgres';

// A peer whose copies are incomplete makes the recovery fail; the retry from a complete peer
// must not be refused because the failed run left half a registry behind.
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
let center: TestCenter;
const target = makeTempDir();
beforeAll(async () => {
  center = await makeTestCenter();
  for (const n of [1, 2, 3]) {
    await center.request('POST', '/v1/registrations', { token: center.adminToken, json: { sha256: sha(`period-${n}`), category: 'agency.documents' } });
    expect((await center.request('POST', '/v1/periods/seal', { token: center.adminToken })).status).toBe(201);
  }
});
afterAll(async () => {
  await center.destroy();
  target.remove();
});

/** A peer holding the bundles of `periods` (only what recovery asks of a peer). */
function peerHolding(periods: number[]): Peer {
  const bundle = (id: number) =>
    frameBundle(signPeriodBundle(center.store, id, { centerId: 'dev-center', masterKey: center.backup.vault.masterKey.key, signer: center.pki.center }));
  return {
    hello: async () => ({ center: 'center-b', you: 'dev-center' }),
    listBundles: async () => periods.map((periodId) => ({ periodId, sha256: '', size: 0 })),
    getBundle: async (id: number) => bundle(id),
    listJournals: async () => [],
    listDocuments: async () => [],
  } as unknown as Peer;
}

it.skipIf(RECOVERY_NOT_ON_POSTGRES)('removes the half-restored registry of a failed recovery, so that it can be run again', async () => {
  const options = { dataDir: target.path, centerId: 'dev-center', pki: center.pki, masterKey: undefined };
  // Period 2 is missing: period 3's previous root does not follow period 1's.
  await expect(recoverFromPeer({ ...options, peer: peerHolding([1, 3]) })).rejects.toMatchObject({ code: 'BUNDLE_INVALID' });
  expect(existsSync(join(target.path, 'archive-seal.sqlite'))).toBe(false);
  const report = await recoverFromPeer({ ...options, peer: peerHolding([1, 2, 3]) });
  expect(report).toMatchObject({ periods: 3, registrations: 3, lastPeriod: { id: 3 } });
});
