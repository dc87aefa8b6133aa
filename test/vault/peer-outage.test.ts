import { createHash, createHmac, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureReplica, markReplicaVerified } from '../../src/store/replicas-repository.js';
import { backupStatus } from '../../src/vault/backup-status.js';
import { FixityAuditor } from '../../src/vault/fixity-auditor.js';
import type { Peer } from '../../src/vault/peer-client.js';
import { VaultError } from '../../src/vault/vault-error.js';
import { makeTestCenter, type TestCenter } from '../helpers/test-center.js';

// A peer that goes away: its copies must stop counting as verified and raise an alarm (cleared
// when it answers again); a local blob whose repair failed while it was away is repaired once
// it is back; and the download alarm of a blob so repaired is cleared.
const DAY = 24 * 3600 * 1000;
const PEER = { id: 'center-b', url: 'https://center-b.invalid' };
let center: TestCenter;
let clock = Date.parse('2026-12-01T00:00:00Z');
const files: { id: number; sha256: string; data: Buffer; cipher: Buffer }[] = [];

/** Peer B, holding exact copies of our ciphertext; `down` makes every call fail as a dead host would. */
const peerB = {
  id: PEER.id,
  url: PEER.url,
  down: false,
  check() {
    if (this.down) throw new VaultError('PEER_FAILED', 'connect ECONNREFUSED 127.0.0.1:9');
  },
  async challengeBlob(sha256: string, nonce: Buffer) {
    this.check();
    const held = files.find((f) => f.sha256 === sha256);
    return held ? createHmac('sha256', nonce).update(held.cipher).digest('hex') : null;
  },
  async getBlob(sha256: string) {
    this.check();
    return Readable.from([files.find((f) => f.sha256 === sha256)!.cipher]);
  },
  close() {},
};

let auditor: FixityAuditor;
const alarms = async () => (await center.request('GET', '/v1/alarms', { token: center.adminToken })).body.alarms as any[];
const openAlarms = async () => (await alarms()).map((a) => `${a.kind} ${a.subject}`);
const download = (id: number) => center.app.request(`/v1/registrations/${id}/file`, { headers: { authorization: `Bearer ${center.adminToken}` } });

/** Flips a byte of the blob's stored ciphertext and downloads it: the download fails and raises its alarm. */
async function damageAndDownload(blob: (typeof files)[number]): Promise<void> {
  const bad = Buffer.from(blob.cipher);
  bad[bad.length - 50]! ^= 0x10;
  writeFileSync(center.backup.vault.pathOf(blob.sha256), bad);
  await expect((await download(blob.id)).arrayBuffer()).rejects.toThrow();
  expect(await openAlarms()).toContain(`download-digest-mismatch registration ${blob.id}`);
  await new Promise((r) => setTimeout(r, 200)); // the download's own repair attempt (no peers in this center's config)
}
const statusOf = () => backupStatus(center.store, { minCopies: 2, peers: [PEER], limit: 100, kind: 'blob' });

beforeAll(async () => {
  center = await makeTestCenter();
  for (let i = 0; i < 3; i++) {
    const data = randomBytes(50_000 + i);
    const fd = new FormData();
    fd.append('category', 'agency.documents');
    fd.append('file', new Blob([new Uint8Array(data)]), `page-${i}.pdf`);
    const res = await center.request('POST', '/v1/registrations', { token: center.adminToken, body: fd });
    expect(res.status).toBe(201);
    const sha256 = createHash('sha256').update(data).digest('hex');
    await center.backup.vault.cipherSha256(sha256); // recorded, as replication does
    files.push({ id: res.body.id, sha256, data, cipher: readFileSync(center.backup.vault.pathOf(sha256)) });
    const at = new Date(clock - DAY).toISOString();
    const cipherSha256 = createHash('sha256').update(files[i]!.cipher).digest('hex');
    ensureReplica(center.store, { kind: 'blob', object: sha256, peer: PEER.id, now: at });
    markReplicaVerified(center.store, { kind: 'blob', object: sha256, peer: PEER.id }, { revision: cipherSha256, confirmedHash: cipherSha256, at });
  }
  auditor = new FixityAuditor({
    store: center.store,
    vault: center.backup.vault,
    peers: [peerB as unknown as Peer],
    replicator: undefined,
    events: center.backup.events,
    intervalMs: DAY,
    cycleDays: 365,
    now: () => new Date(clock),
  });
});
afterAll(() => center.destroy());

describe('a peer that is gone', () => {
  it('raises an alarm naming it, does not count its copies as verified, and leaves them due', async () => {
    expect(statusOf().blobs.belowMinimum).toBe(0);
    await auditor.run({ all: true }); // the peer answers: every copy audited now
    const auditedAt = center.store.prepare("SELECT audited_at FROM replica WHERE peer = 'center-b'").pluck().all();
    expect(auditedAt).toEqual([new Date(clock).toISOString(), new Date(clock).toISOString(), new Date(clock).toISOString()]);

    peerB.down = true;
    clock += DAY;
    for (let run = 0; run < 2; run++) {
      const summary = await auditor.run({ all: true });
      expect(summary.peerCopies).toMatchObject({ checked: 0, unreachable: 3 });
    }
    // Not an audit: the copies keep their last real audit, so they stay first in the rotation.
    expect(center.store.prepare("SELECT audited_at FROM replica WHERE peer = 'center-b'").pluck().all()).toEqual(auditedAt);
    const down = (await alarms()).filter((a) => a.kind === 'peer-unreachable');
    expect(down).toEqual([expect.objectContaining({ subject: 'center-b', count: 6 })]);
    expect(down[0].message).toMatch(/^peer center-b does not answer fixity challenges, so its copies cannot be checked and are not counted as verified: connect ECONNREFUSED/);

    const status = statusOf();
    expect(status.blobs.belowMinimum).toBe(3);
    expect(status.peers).toEqual([expect.objectContaining({ id: 'center-b', verified: 0, unreachable: 3 })]);
    for (const item of status.items) {
      expect(item).toMatchObject({ verifiedCopies: 1, belowMinimum: true });
      expect(item.copies[1]).toMatchObject({ where: 'center-b', status: 'verified', verified: false, auditOutcome: 'unreachable', lastVerifiedAt: auditedAt[0] });
    }
    await center.backup.watch();
    expect((await alarms()).map((a) => a.kind)).toContain('copies-below-minimum');
  });

  it('clears the alarm and counts the copies again once the peer answers', async () => {
    peerB.down = false;
    clock += 1000;
    const summary = await auditor.run(); // the scheduled share: the copies left unchecked are due first
    expect(summary.peerCopies).toMatchObject({ checked: 1, unreachable: 0, failed: 0 });
    await auditor.run({ all: true });
    expect((await alarms()).filter((a) => a.kind === 'peer-unreachable')).toEqual([]);
    const status = statusOf();
    expect(status.blobs.belowMinimum).toBe(0);
    expect(status.peers).toEqual([expect.objectContaining({ id: 'center-b', verified: 3, unreachable: 0 })]);
    expect(status.items[0]!.copies[1]).toMatchObject({ verified: true, auditOutcome: 'ok', lastVerifiedAt: new Date(clock).toISOString() });
  });
});

describe('a damaged local blob whose repair failed while the peer was down', () => {
  it('is repaired, with back-off, once the peer is back; its download alarm is cleared', async () => {
    const blob = files[0]!;
    const path = center.backup.vault.pathOf(blob.sha256);
    await damageAndDownload(blob);
    expect(await openAlarms()).toContain(`download-digest-mismatch registration ${blob.id}`);

    peerB.down = true;
    const summary = await auditor.run({ all: true });
    expect(summary.localBlobs).toMatchObject({ failed: 1, repaired: 0 });
    expect(center.backup.vault.rowOf(blob.sha256)!.status).toBe('damaged');

    peerB.down = false;
    expect(await auditor.retryRepairs()).toEqual({ attempted: 0, repaired: 0 }); // still backing off
    clock += 61_000;
    expect(await auditor.retryRepairs()).toEqual({ attempted: 1, repaired: 1 });
    expect(center.backup.vault.rowOf(blob.sha256)!.status).toBe('ok');
    expect(readFileSync(path).equals(blob.cipher)).toBe(true);
    const open = await openAlarms();
    expect(open).not.toContain(`download-digest-mismatch registration ${blob.id}`);
    expect(open).not.toContain(`audit-failed blob ${blob.sha256} @ local`);
    expect(Buffer.from(await (await download(blob.id)).arrayBuffer()).equals(blob.data)).toBe(true);
  });

  it('backs off longer after each failed attempt', async () => {
    const blob = files[1]!;
    writeFileSync(center.backup.vault.pathOf(blob.sha256), Buffer.alloc(10));
    peerB.down = true;
    await auditor.run({ all: true }); // fails, repair fails: next try in 1 min
    clock += 61_000;
    expect(await auditor.retryRepairs()).toEqual({ attempted: 1, repaired: 0 }); // next in 2 min
    clock += 61_000;
    expect(await auditor.retryRepairs()).toEqual({ attempted: 0, repaired: 0 });
    peerB.down = false;
    clock += 61_000;
    expect(await auditor.retryRepairs()).toEqual({ attempted: 1, repaired: 1 });
    expect(center.backup.vault.rowOf(blob.sha256)!.status).toBe('ok');
  });
});

describe('the download-digest-mismatch alarm', () => {
  it('is cleared by a later download that matches its digests', async () => {
    const blob = files[2]!;
    await damageAndDownload(blob);
    writeFileSync(center.backup.vault.pathOf(blob.sha256), blob.cipher); // put back by hand
    expect(Buffer.from(await (await download(blob.id)).arrayBuffer()).equals(blob.data)).toBe(true);
    expect(await openAlarms()).not.toContain(`download-digest-mismatch registration ${blob.id}`);
  });
});
