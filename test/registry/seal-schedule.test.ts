import { describe, expect, it } from 'vitest';
import { nextSealTime, parseSealSchedule } from '../../src/registry/seal-schedule.js';
import { loadConfig } from '../../src/config.js';

describe('seal schedule', () => {
  it('closes daily at 00:00 Asia/Shanghai by default (16:00 UTC)', () => {
    const schedule = loadConfig({}).sealSchedule;
    expect(nextSealTime(schedule, new Date('2026-11-25T15:59:59.999Z'))!.toISOString()).toBe('2026-11-25T16:00:00.000Z');
    expect(nextSealTime(schedule, new Date('2026-11-25T16:00:00.000Z'))!.toISOString()).toBe('2026-11-26T16:00:00.000Z');
    expect(nextSealTime(schedule, new Date('2026-12-31T17:00:00.000Z'))!.toISOString()).toBe('2027-01-01T16:00:00.000Z');
  });

  it('honours another time and time zone, across a daylight-saving change', () => {
    const s = parseSealSchedule('daily@02:30', 'Europe/Berlin');
    // 2026-03-29: Berlin moves from UTC+1 to UTC+2.
    expect(nextSealTime(s, new Date('2026-03-28T12:00:00Z'))!.toISOString()).toBe('2026-03-29T01:30:00.000Z');
    expect(nextSealTime(s, new Date('2026-07-01T12:00:00Z'))!.toISOString()).toBe('2026-07-02T00:30:00.000Z');
  });

  it('closes on an interval, or never', () => {
    const s = parseSealSchedule('every:15m', 'UTC');
    expect(nextSealTime(s, new Date('2026-11-25T10:07:00Z'))!.toISOString()).toBe('2026-11-25T10:15:00.000Z');
    expect(nextSealTime(parseSealSchedule('off', 'UTC'), new Date())).toBeUndefined();
  });

  it.each(['daily', 'daily@24:00', 'daily@7:00', 'every:0s', 'every:5d', 'hourly'])('refuses "%s"', (text) => {
    expect(() => parseSealSchedule(text, 'Asia/Shanghai')).toThrow(/seal schedule/);
  });

  it('refuses an unknown time zone and names the variable', () => {
    expect(() => loadConfig({ ARCHIVE_SEAL_TIME_ZONE: 'Mars/Olympus' })).toThrow(/ARCHIVE_SEAL_TIME_ZONE.*Mars\/Olympus/);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT=eighty/);
    expect(() => loadConfig({ ARCHIVE_SEAL_MAX_UPLOAD_BYTES: '-1' })).toThrow(/ARCHIVE_SEAL_MAX_UPLOAD_BYTES/);
  });
});
