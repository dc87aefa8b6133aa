import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { issueToken } from '../../src/people/access-tokens.js';
import { buildCenter, type Center } from '../../src/server.js';
import { Store } from '../../src/store/store.js';
import { backupStatus } from '../../src/vault/backup-status.js';
import { recoverFromPeer, RECOVERY_STAGING_DIR } from '../../src/vault/disaster-recovery.js';
import { FixityAuditor } from '../../src/vault/fixity-auditor.js';
import { writeMasterKeyFile } from '../../src/vault/master-key.js';
import { frameBundle, signPeriodBundle } from '../../src/vault/period-bundle.js';
import type { Peer } from '../../src/vault/peer-client.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { makeTestCenter, type TestCenter } from '../helpers/test-center.js';
import { testDatabaseEnv } from '../helpers/test-database.js';
import { TEST_ENGINE } from '../helpers/test-database.js';

// `recover` rebuilds a SQLite registry (on PostgreSQL: recover, then `db copy`; test/store/database-copy.test.ts).
const RECOVERY_NOT_ON_POSTGRES = TEST_ENGINE === 'postgres';

// A recovery that could not fetch some originals, or that was killed (kill -9) part way, must
// leave a data directory that is either resumed by running it again or repaired by the center
// started from it, never one that is refused or silently short of originals.
let source: TestCenter;
const work = makeTempDir();
const files: { id: number; sha256: string; data: Buffer }[] = [];
const dirOf = (name: string) => join(work.path, name);

beforeAll(async () => {
  source = await makeTestCenter();
  for (let n = 0; n < 3; n++) {
    const data = randomBytes(40_000 + n);
    const form = new FormData();
    form.append('category', 'agency.documents');
    form.append('file', new Blob([new Uint8Array(data)]), `page-${n}.pdf`);
    const res = await source.request('POST', '/v1/registrations', { token: source.adminToken, body: form });
    expect(res.status).toBe(201);
    files.push({ id: res.body.id, sha256: createHash('sha256').update(data).digest('hex'), data });
    expect((await source.request('POST', '/v1/periods/seal', { token: source.adminToken })).status).toBe(201);
  }
});
afterAll(async () => {
  await source.destroy();
  work.remove();
});

/** A gate a fake peer call waits at: `reached` resolves when the call arrives, `open(err)` lets it go on (or fail). */
function gate() {
  let arrived!: () => void;
  let release!: (err?: Error) => void;
  const reached = new Promise<void>((r) => (arrived = r));
  const released = new Promise<void>((resolve, reject) => (release = (err) => (err ? reject(err) : resolve())));
  return { reached, open: release, wait: () => (arrived(), released) };
}

/** Peer B holding every copy of the source center; `missing` blobs it fails to give, `hold` calls wait at a gate. */
function peerB(options: { missing?: string[]; holdBundle?: { periodId: number; gate: ReturnType<typeof gate> }; holdFirstBlob?: ReturnType<typeof gate> } = {}): Peer {
  const vault = source.backup.vault;
  let blobsAsked = 0;
  return {
    id: 'center-b',
    hello: async () => ({ center: 'center-b', you: 'dev-center' }),
    listBundles: async () => [1, 2, 3].map((periodId) => ({ periodId, sha256: '', size: 0 })),
    getBundle: async (id: number) => {
      if (options.holdBundle?.periodId === id) await options.holdBundle.gate.wait();
      return frameBundle(signPeriodBundle(source.store, id, { centerId: 'dev-center', masterKey: vault.masterKey.key, signer: source.pki.center }));
    },
    listJournals: async () => [],
    listDocuments: async () => [],
    getBlob: async (sha256: string) => {
      if (blobsAsked++ === 0 && options.holdFirstBlob) await options.holdFirstBlob.wait();
      if (options.missing?.includes(sha256)) throw new Error(`peer center-b: blob ${sha256} is not held (404)`);
      return Readable.from([readFileSync(vault.pathOf(sha256))]);
    },
    close() {},
  } as unknown as Peer;
}

const recover = (dataDir: string, peer: Peer) =>
  recoverFromPeer({ dataDir, centerId: 'dev-center', peer, pki: source.pki, masterKey: source.backup.vault.masterKey });

function inspect(dataDir: string) {
  const store = Store.openConnection({ file: join(dataDir, 'archive-seal.sqlite'), readonly: true });
  try {
    return {
      blobs: Object.fromEntries((store.prepare('SELECT lower(hex(sha256)) AS sha256, status FROM vault_blob').all() as { sha256: string; status: string }[]).map((b) => [b.sha256, b.status])),
      openAlarms: store.prepare("SELECT subject FROM alarm WHERE kind = 'audit-failed' AND cleared_at IS NULL ORDER BY subject").pluck().all() as string[],
      periods: store.prepare('SELECT count(*) FROM period').pluck().get() as number,
    };
  } finally {
    store.sqlite.close();
  }
}

describe.skipIf(RECOVERY_NOT_ON_POSTGRES)('a recovery that could not fetch an original', () => {
  it('leaves it marked missing with an alarm, and running the recovery again fetches it', async () => {
    const dir = dirOf('resumed');
    const lost = files[1]!.sha256;
    const first = await recover(dir, peerB({ missing: [lost] }));
    expect(first).toMatchObject({ resumed: false, periods: 3, registrations: 3, blobs: { restored: 2, skipped: 0 } });
    expect(first.blobs.failed).toEqual([{ sha256: lost, problem: expect.stringMatching(/not held/) }]);
    expect(inspect(dir)).toMatchObject({ blobs: { [files[0]!.sha256]: 'ok', [lost]: 'missing', [files[2]!.sha256]: 'ok' }, openAlarms: [`blob ${lost} @ local`] });

    // Still missing at the peer: the rerun resumes (it is not refused), fetches nothing, says so.
    const still = await recover(dir, peerB({ missing: [lost] }));
    expect(still).toMatchObject({ resumed: true, periods: 0, blobs: { restored: 0, failed: [{ sha256: lost }] } });

    // The peer's copy is back: the rerun fetches it and clears the alarm.
    const resumed = await recover(dir, peerB());
    expect(resumed).toMatchObject({ resumed: true, periods: 0, registrations: 0, blobs: { restored: 1, failed: [], skipped: 0 } });
    expect(inspect(dir)).toMatchObject({ blobs: { [lost]: 'ok' }, openAlarms: [], periods: 3 });

    // Whole now: a further run is refused as before.
    await expect(recover(dir, peerB())).rejects.toMatchObject({ code: 'RECOVERY_FAILED', message: expect.stringMatching(/already holds a registry/) });
  });

  it('without the master key restores the registry only; run again with the key, it fetches the originals', async () => {
    const dir = dirOf('keyless');
    const keyless = await recoverFromPeer({ dataDir: dir, centerId: 'dev-center', peer: peerB(), pki: source.pki, masterKey: undefined });
    expect(keyless).toMatchObject({ resumed: false, periods: 3, blobs: { restored: 0, failed: [], skipped: 3 } });
    expect(inspect(dir).blobs).toEqual({});
    const withKey = await recover(dir, peerB());
    expect(withKey).toMatchObject({ resumed: true, blobs: { restored: 3, failed: [], skipped: 0 } });
    expect(inspect(dir).blobs).toEqual(Object.fromEntries(files.map((f) => [f.sha256, 'ok'])));
  });

  it('is repaired from a peer by the center started from that directory, which reports it until then', async () => {
    const dir = dirOf('started');
    const lost = files[2]!;
    const report = await recover(dir, peerB({ missing: [lost.sha256] }));
    expect(report.blobs.failed).toHaveLength(1);
    writeMasterKeyFile(join(dir, 'master.key'), source.backup.vault.masterKey);
    const center = await startCenter(dir);
    try {
      const peer = peerB();
      const auditor = new FixityAuditor({ store: center.store, vault: center.backup.vault, peers: [peer], replicator: undefined, events: center.backup.events, intervalMs: 86_400_000, cycleDays: 365 });
      const status = backupStatus(center.store, { minCopies: 2, peers: [], limit: 10, kind: 'blob' });
      expect(status.blobs).toEqual({ total: 3, belowMinimum: 3 }); // no peer copy on record yet; the lost one has no local copy either
      expect(status.items.find((i) => i.id === lost.sha256)?.copies[0]).toMatchObject({ where: 'local', status: 'missing', verified: false });
      expect((await center.app.request('/v1/alarms', { headers: center.auth })).status).toBe(200);
      const alarms = (await (await center.app.request('/v1/alarms', { headers: center.auth })).json()).alarms as any[];
      expect(alarms).toEqual([expect.objectContaining({ kind: 'audit-failed', subject: `blob ${lost.sha256} @ local` })]);

      const summary = await auditor.run({ all: true });
      expect(summary.localBlobs).toEqual({ checked: 3, failed: 1, repaired: 1, filesWithoutRowRemoved: 0 });
      const res = await center.app.request(`/v1/registrations/${lost.id}/file`, { headers: center.auth });
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(lost.data)).toBe(true);
      expect(((await (await center.app.request('/v1/alarms', { headers: center.auth })).json()).alarms as any[]).filter((a) => a.kind === 'audit-failed')).toEqual([]);

      // Any original the registry names but the vault has no record of is found and repaired by the audit.
      const gone = files[0]!.sha256;
      rmSync(center.backup.vault.pathOf(gone));
      center.store.prepare('DELETE FROM vault_blob WHERE lower(hex(sha256)) = ?').run(gone);
      const again = await auditor.run({ all: true });
      expect(again.localBlobs).toEqual({ checked: 3, failed: 1, repaired: 1, filesWithoutRowRemoved: 0 });
      expect(center.backup.vault.rowOf(gone)).toMatchObject({ status: 'ok' });
    } finally {
      await center.close();
    }
  });
});

describe.skipIf(RECOVERY_NOT_ON_POSTGRES)('a recovery killed part way (kill -9)', () => {
  it('leaves no half registry in the data directory: a rerun on what it left starts over and completes', async () => {
    const dir = dirOf('killed-in-registry');
    const held = gate();
    // Periods 1 and 2 are written, then the run waits for period 3's bundle: a kill now leaves
    // exactly what is on disk (SQLite commits are durable), so a copy of the directory is what a kill leaves.
    const running = recover(dir, peerB({ holdBundle: { periodId: 3, gate: held } }));
    await held.reached;
    const killed = dirOf('killed-in-registry-copy');
    cpSync(dir, killed, { recursive: true });
    expect(existsSync(join(killed, 'archive-seal.sqlite'))).toBe(false); // a center started here sees no half registry
    expect(existsSync(join(killed, RECOVERY_STAGING_DIR))).toBe(true);
    // Nor does a center start there as a new, empty one: it names the fix.
    await expect(buildCenter(loadConfig({ ARCHIVE_SEAL_DATA_DIR: killed, ARCHIVE_SEAL_SEAL_SCHEDULE: 'off', ARCHIVE_SEAL_CHAINS: 'none' }), () => {})).rejects.toThrow(
      `${killed} holds an unfinished recovery: run \`archive-seal recover --from-peer URL --data-dir ${killed}\` again to finish it`,
    );
    expect(existsSync(join(killed, 'archive-seal.sqlite'))).toBe(false);
    const rerun = await recover(killed, peerB());
    expect(rerun).toMatchObject({ resumed: false, periods: 3, registrations: 3, blobs: { restored: 3, failed: [] } });
    expect(existsSync(join(killed, RECOVERY_STAGING_DIR))).toBe(false);
    expect(inspect(killed)).toMatchObject({ periods: 3, openAlarms: [] });

    held.open(new Error('connection reset'));
    await expect(running).rejects.toThrow('connection reset');
    expect(existsSync(join(dir, 'archive-seal.sqlite'))).toBe(false);
    expect(existsSync(join(dir, RECOVERY_STAGING_DIR))).toBe(false);
  });

  it('killed while fetching originals: the registry is whole, the rest marked missing, and a rerun resumes', async () => {
    const dir = dirOf('killed-in-originals');
    const held = gate();
    const running = recover(dir, peerB({ holdFirstBlob: held }));
    await held.reached;
    const killed = dirOf('killed-in-originals-copy');
    cpSync(dir, killed, { recursive: true });
    const left = inspect(killed);
    expect(left.periods).toBe(3);
    expect(left.blobs).toEqual(Object.fromEntries(files.map((f) => [f.sha256, 'missing'])));
    const rerun = await recover(killed, peerB());
    expect(rerun).toMatchObject({ resumed: true, blobs: { restored: 3, failed: [] } });
    expect(inspect(killed)).toMatchObject({ blobs: Object.fromEntries(files.map((f) => [f.sha256, 'ok'])) });

    held.open();
    expect((await running).blobs.restored).toBe(3);
  });
});

/** A center over `dataDir`, with an admin token. */
async function startCenter(dataDir: string): Promise<Center & { auth: Record<string, string> }> {
  const config = loadConfig({ ARCHIVE_SEAL_DATA_DIR: dataDir, ARCHIVE_SEAL_SEAL_SCHEDULE: 'off', ARCHIVE_SEAL_CHAINS: 'none', ...(await testDatabaseEnv(dataDir)) });
  const center = await buildCenter(config, () => {});
  const token = issueToken(center.store, { name: 'test admin', role: 'admin', pseudonymous: false }).token;
  return Object.assign(center, { auth: { authorization: `Bearer ${token}` } });
}
