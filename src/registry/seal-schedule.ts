/**
 * When periods close. `daily@HH:MM` closes every day at that local time in `timeZone`
 * (default 00:00 Asia/Shanghai); `every:N(s|m|h)` at a fixed interval from the epoch (for
 * busy centers and tests); `off` only on demand.
 */
export type SealSchedule =
  | { kind: 'daily'; hour: number; minute: number; timeZone: string }
  | { kind: 'interval'; ms: number }
  | { kind: 'off' };

/** Parses a schedule setting; throws a plain-language error on a bad one. */
export function parseSealSchedule(text: string, timeZone: string): SealSchedule {
  assertTimeZone(timeZone);
  if (text === 'off') return { kind: 'off' };
  const daily = /^daily@([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  if (daily) return { kind: 'daily', hour: Number(daily[1]), minute: Number(daily[2]), timeZone };
  const every = /^every:(\d+)(s|m|h)$/.exec(text);
  if (every) {
    const ms = Number(every[1]) * { s: 1_000, m: 60_000, h: 3_600_000 }[every[2] as 's' | 'm' | 'h'];
    if (ms >= 1_000) return { kind: 'interval', ms };
  }
  throw new Error(`seal schedule "${text}" is not one of daily@HH:MM, every:N(s|m|h), off`);
}

/** The first closing time strictly after `after`, or undefined when the schedule is off. */
export function nextSealTime(schedule: SealSchedule, after: Date): Date | undefined {
  switch (schedule.kind) {
    case 'off':
      return undefined;
    case 'interval':
      return new Date((Math.floor(after.getTime() / schedule.ms) + 1) * schedule.ms);
    case 'daily': {
      const local = localParts(after, schedule.timeZone);
      for (let dayOffset = 0; dayOffset <= 2; dayOffset++) {
        const candidate = zonedTimeToUtc(
          local.year, local.month, local.day + dayOffset, schedule.hour, schedule.minute, schedule.timeZone,
        );
        if (candidate.getTime() > after.getTime()) return candidate;
      }
      throw new Error('no daily seal time within two days');
    }
  }
}

function assertTimeZone(timeZone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw new Error(`time zone "${timeZone}" is not an IANA time zone name`);
  }
}

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function localParts(date: Date, timeZone: string): LocalParts {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(date);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return { year: get('year'), month: get('month'), day: get('day'), hour: get('hour'), minute: get('minute'), second: get('second') };
}

/** The UTC instant at which the wall clock in `timeZone` shows the given time. */
function zonedTimeToUtc(year: number, month: number, day: number, hour: number, minute: number, timeZone: string): Date {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  let utc = wall - offsetMs(new Date(wall), timeZone);
  // A second pass settles instants near an offset change (daylight saving elsewhere).
  utc = wall - offsetMs(new Date(utc), timeZone);
  return new Date(utc);
}

function offsetMs(date: Date, timeZone: string): number {
  const p = localParts(date, timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(date.getTime() / 1000) * 1000;
}
