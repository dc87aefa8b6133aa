import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestCenter, type TestCenter } from '../helpers/test-center.js';

let center: TestCenter;
let owner: string;
let other: string;
let registrar: string;
beforeAll(async () => {
  center = await makeTestCenter();
  owner = center.tokenFor('某市住房公积金中心', 'depositor');
  other = center.tokenFor('another unit', 'depositor');
  registrar = center.tokenFor('registrar', 'registrar');
});
afterAll(() => center.destroy());

async function uploadAs(token: string, file: Buffer, fileName = '公积金缴存明细.pdf'): Promise<any> {
  const fd = new FormData();
  fd.append('category', 'livelihood.housing-provident-fund');
  fd.append('file', new Blob([new Uint8Array(file)], { type: 'application/pdf' }), fileName);
  const res = await center.request('POST', '/v1/registrations', { token, body: fd });
  expect(res.status).toBe(201);
  return res.body;
}

async function fetchFile(id: number, token?: string) {
  return center.app.request(`/v1/registrations/${id}/file`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
}

const blobPath = (sha256: string) => center.backup.vault.pathOf(sha256);

describe('GET /v1/registrations/:id/file', () => {
  it('gives the owner and staff the original, streamed and checked, with its digests and name', async () => {
    const file = randomBytes(2_300_000); // several segments
    const r = await uploadAs(owner, file);
    for (const token of [owner, center.adminToken, registrar]) {
      const res = await fetchFile(r.id, token);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/pdf');
      expect(res.headers.get('content-length')).toBe(String(file.length));
      expect(res.headers.get('content-disposition')).toBe(`attachment; filename="_______.pdf"; filename*=UTF-8''${encodeURIComponent('公积金缴存明细.pdf')}`);
      expect(res.headers.get('x-archive-seal-sha256')).toBe(createHash('sha256').update(file).digest('hex'));
      expect(res.headers.get('x-archive-seal-sm3')).toBe(createHash('sm3').update(file).digest('hex'));
      expect(Buffer.from(await res.arrayBuffer()).equals(file)).toBe(true);
    }
    const downloads = await center.request('GET', `/v1/backup/downloads?registration=${r.id}`, { token: center.adminToken });
    expect(downloads.body.downloads).toHaveLength(3);
    expect(downloads.body.downloads.map((d: any) => [d.outcome, d.bytes])).toEqual([
      ['complete', file.length],
      ['complete', file.length],
      ['complete', file.length],
    ]);
    const events = await center.request('GET', `/v1/backup/events?type=dissemination&object=${r.id}`, { token: center.adminToken });
    expect(events.body.events).toHaveLength(3);
    // A depositor's token is now its unit-admin user's (issue 19): the event names the account and the user.
    expect(events.body.events[2].agent).toMatch(/^account \d+ \(某市住房公积金中心, unit-admin, user account-\d+\)$/);
  });

  it('answers 404 to another depositor, for a hash-only registration and for an unknown id; 401 without a token', async () => {
    const r = await uploadAs(owner, randomBytes(1000));
    expect((await fetchFile(r.id, other)).status).toBe(404);
    const hashOnly = await center.request('POST', '/v1/registrations', { token: owner, json: { sha256: createHash('sha256').update('x').digest('hex'), category: 'voluntary.individual' } });
    const res = await fetchFile(hashOnly.body.id, owner);
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe('NOT_FOUND');
    expect((await fetchFile(999_999, center.adminToken)).status).toBe(404);
    expect((await fetchFile(r.id)).status).toBe(401);
  });

  it('aborts the response before its end when the stored copy fails its check, records it and raises an alarm', async () => {
    const file = randomBytes(3_000_000);
    const r = await uploadAs(owner, file);
    const path = blobPath(r.digests.sha256);
    const good = readFileSync(path);
    const bad = Buffer.from(good);
    bad[bad.length - 100]! ^= 0x04; // in the last segment
    writeFileSync(path, bad);
    try {
      const res = await fetchFile(r.id, owner);
      expect(res.status).toBe(200); // headers went out before the damage was reached
      await expect(res.arrayBuffer()).rejects.toThrow();
      const downloads = await center.request('GET', `/v1/backup/downloads?registration=${r.id}`, { token: center.adminToken });
      expect(downloads.body.downloads.at(-1).outcome).toBe('digest-mismatch');
      expect(downloads.body.downloads.at(-1).bytes).toBeLessThan(file.length);
      const alarms = await center.request('GET', '/v1/alarms', { token: registrar });
      expect(alarms.body.alarms).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'download-digest-mismatch', subject: `registration ${r.id}` })]));
      expect(center.logs.join('\n')).toMatch(/ALARM download-digest-mismatch \[registration \d+\]/);
    } finally {
      writeFileSync(path, good);
    }
  });

  it('answers 503 when the file is missing from the vault or is another blob\'s, and raises an alarm', async () => {
    const one = await uploadAs(owner, randomBytes(5000));
    const two = await uploadAs(owner, randomBytes(6000));
    const path = blobPath(one.digests.sha256);
    renameSync(path, `${path}.away`);
    try {
      const res = await fetchFile(one.id, owner);
      expect(res.status).toBe(503);
      expect((await res.json()).error.code).toBe('BLOB_NOT_FOUND');
      writeFileSync(path, readFileSync(blobPath(two.digests.sha256)));
      const swapped = await fetchFile(one.id, owner);
      expect(swapped.status).toBe(503);
      expect((await swapped.json()).error.code).toBe('BLOB_CORRUPT');
    } finally {
      renameSync(`${path}.away`, path);
    }
    const alarms = await center.request('GET', '/v1/alarms', { token: center.adminToken });
    expect(alarms.body.alarms.map((a: any) => a.kind)).toEqual(expect.arrayContaining(['audit-failed']));
    expect((await fetchFile(one.id, owner)).status).toBe(200);
  });

  it('shows staff the backup status; a depositor may not see it', async () => {
    const status = await center.request('GET', '/v1/backup/status?kind=blob&limit=2', { token: registrar });
    expect(status.status).toBe(200);
    expect(status.body.minimumCopies).toBe(2);
    expect(status.body.items).toHaveLength(2);
    expect(status.body.items[0]).toMatchObject({ kind: 'blob', verifiedCopies: 1, belowMinimum: true, copies: [{ where: 'local', status: 'ok' }] });
    expect((await center.request('GET', '/v1/backup/status', { token: owner })).status).toBe(403);
    expect((await center.request('POST', '/v1/backup/audit', { token: registrar })).status).toBe(403);
    const audit = await center.request('POST', '/v1/backup/audit?all=1', { token: center.adminToken });
    expect(audit.status).toBe(200);
    expect(audit.body.localBlobs.failed).toBe(0);
    expect(audit.body.localBlobs.checked).toBeGreaterThanOrEqual(5);
  });
});
