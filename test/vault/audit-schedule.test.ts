import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestCenter, type TestCenter } from '../helpers/test-center.js';

const DAY = 24 * 3600 * 1000;
let center: TestCenter;
beforeAll(async () => {
  center = await makeTestCenter({
    ARCHIVE_SEAL_AUDIT_INTERVAL_MS: String(DAY),
    ARCHIVE_SEAL_AUDIT_CYCLE_DAYS: '3',
    ARCHIVE_SEAL_MIN_FREE_DISK_BYTES: String(1024 ** 5), // more than any test machine has: the alarm must go off
  });
  for (let i = 0; i < 6; i++) {
    const fd = new FormData();
    fd.append('category', 'agency.digitized');
    fd.append('file', new Blob([new Uint8Array(randomBytes(10_000 + i))]), `page-${i}.tif`);
    expect((await center.request('POST', '/v1/registrations', { token: center.adminToken, body: fd })).status).toBe(201);
  }
  expect((await center.request('POST', '/v1/periods/seal', { token: center.adminToken })).status).toBe(201);
});
afterAll(() => center.destroy());

describe('the audit schedule', () => {
  it('takes a share per run that covers every copy within the cycle (a year by default, above the 10 % rule)', () => {
    expect(center.backup.auditor.shareOf(6)).toBe(2); // one day of a three-day cycle
    expect(center.backup.auditor.shareOf(0)).toBe(0);
  });

  it('checks the copies checked longest ago first, so three daily runs cover all six blobs once', async () => {
    const seen: string[] = [];
    for (let run = 0; run < 3; run++) {
      const before = (await center.request('GET', '/v1/backup/events?type=fixity%20check&limit=1000', { token: center.adminToken })).body.events.length;
      const summary = await center.backup.audit();
      expect(summary.localBlobs).toEqual({ checked: 2, failed: 0, repaired: 0, filesWithoutRowRemoved: 0 });
      expect(summary.localPeriods.checked).toBe(1);
      const events = (await center.request('GET', '/v1/backup/events?type=fixity%20check&limit=1000', { token: center.adminToken })).body.events;
      seen.push(...events.slice(0, events.length - before).filter((e: any) => e.object.kind === 'blob').map((e: any) => e.object.id));
    }
    expect(new Set(seen).size).toBe(6);
  });
});

describe('standing alarms', () => {
  it('raises low disk and copies below the minimum (no peer configured), as alarms and log lines', async () => {
    await center.backup.watch();
    const alarms = (await center.request('GET', '/v1/alarms', { token: center.adminToken })).body.alarms;
    expect(alarms.map((a: any) => a.kind).sort()).toEqual(['copies-below-minimum', 'low-disk']);
    expect(alarms.find((a: any) => a.kind === 'copies-below-minimum').message).toBe(
      '6 of 6 blobs and 1 of 1 sealed periods have fewer than 2 verified copies (only 0 peers configured)',
    );
    expect(alarms.find((a: any) => a.kind === 'low-disk').message).toMatch(/^only \d+ MiB free on the data directory's disk \(minimum 1073741824 MiB\)$/);
    expect(center.logs.filter((l) => l.startsWith('ALARM'))).toHaveLength(2);
    await center.backup.watch(); // still so: the same alarms, not new ones
    const again = (await center.request('GET', '/v1/alarms', { token: center.adminToken })).body.alarms;
    expect(again.map((a: any) => a.count)).toEqual([2, 2]);
    expect(center.logs.filter((l) => l.startsWith('ALARM'))).toHaveLength(2);
  });
});
