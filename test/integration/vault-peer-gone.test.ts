import { afterAll, beforeAll, expect, it } from 'vitest';
import { api } from '../helpers/server-process.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { eventually, makeFederation, upload, type PeerCenter } from '../vault/peer-fixture.js';

// Peer B stops after every copy there was verified. Audits that cannot reach it must say so with
// an alarm naming it, stop counting its copies as verified (status and below-minimum count), and
// not count as audits; once B answers again, the alarm clears and the copies count again.
const dir = makeTempDir();
let a: PeerCenter;
let b: PeerCenter;
beforeAll(async () => {
  [a, b] = (await makeFederation(dir.path, ['center-a', 'center-b'])) as [PeerCenter, PeerCenter];
  await Promise.all([a.start(), b.start()]);
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  dir.remove();
});

const call = async (method: string, path: string) => (await api(a.server!.url, a.server!.adminToken, method, path)).body;
const peerAlarms = async () => ((await call('GET', '/v1/alarms')).alarms as any[]).filter((x) => x.kind === 'peer-unreachable');

it('raises an alarm for a peer that stopped answering challenges, stops counting its copies, and clears it when the peer is back', async () => {
  for (const size of [120_000, 90_000]) await upload(a.server!.url, a.server!.adminToken, Buffer.alloc(size, size % 251), { category: 'agency.digitized' });
  expect((await api(a.server!.url, a.server!.adminToken, 'POST', '/v1/periods/seal')).status).toBe(201);
  await eventually(async () => {
    const s = await call('GET', '/v1/backup/status');
    return s.blobs.belowMinimum === 0 && s.periods.belowMinimum === 0 && s.peers[0].verified === 3 ? s : undefined;
  }, 'every copy at center-b verified');
  expect((await call('POST', '/v1/backup/audit?all=1')).peerCopies).toMatchObject({ checked: 3, failed: 0, unreachable: 0 });

  await b.stop();
  for (let run = 0; run < 2; run++) expect((await call('POST', '/v1/backup/audit?all=1')).peerCopies).toMatchObject({ checked: 0, unreachable: 3 });
  const alarms = await peerAlarms();
  expect(alarms).toEqual([expect.objectContaining({ subject: 'center-b', count: 6 })]); // once per copy left unchecked
  expect(a.server!.output()).toMatch(/ALARM peer-unreachable \[center-b\]: peer center-b does not answer fixity challenges/);
  const s = await call('GET', '/v1/backup/status');
  expect(s).toMatchObject({ blobs: { total: 2, belowMinimum: 2 }, periods: { total: 1, belowMinimum: 1 } });
  expect(s.peers).toEqual([expect.objectContaining({ id: 'center-b', verified: 0, unreachable: 3 })]);
  for (const item of s.items) {
    const copy = item.copies.find((c: any) => c.where === 'center-b');
    expect(copy).toMatchObject({ status: 'verified', verified: false, auditOutcome: 'unreachable', lastVerifiedAt: expect.any(String) });
    expect(item).toMatchObject({ verifiedCopies: 1, belowMinimum: true });
  }

  await b.start();
  expect((await call('POST', '/v1/backup/audit?all=1')).peerCopies).toMatchObject({ checked: 3, failed: 0, unreachable: 0 });
  expect(await peerAlarms()).toEqual([]);
  const back = await call('GET', '/v1/backup/status');
  expect(back).toMatchObject({ blobs: { belowMinimum: 0 }, periods: { belowMinimum: 0 } });
  expect(back.peers).toEqual([expect.objectContaining({ id: 'center-b', verified: 3, unreachable: 0 })]);
});
