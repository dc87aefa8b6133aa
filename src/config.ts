import { resolve } from 'node:path';
import { parseSealSchedule, type SealSchedule } from './registry/seal-schedule.js';

/** Everything the service is configured with; built once, from the environment, in main. */
export interface Config {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly centerId: string;
  readonly centerName: string;
  readonly sealSchedule: SealSchedule;
  readonly maxUploadBytes: number;
  readonly sqliteSynchronous: 'FULL' | 'NORMAL';
}

/** The settings, their environment variables and defaults: the README's configuration table. */
export const SETTINGS = {
  dataDir: { env: 'ARCHIVE_SEAL_DATA_DIR', default: './data' },
  host: { env: 'HOST', default: '127.0.0.1' },
  port: { env: 'PORT', default: '8080' },
  centerId: { env: 'ARCHIVE_SEAL_CENTER_ID', default: 'dev-center' },
  centerName: { env: 'ARCHIVE_SEAL_CENTER_NAME', default: 'Archive Seal development center (not for evidence)' },
  sealSchedule: { env: 'ARCHIVE_SEAL_SEAL_SCHEDULE', default: 'daily@00:00' },
  timeZone: { env: 'ARCHIVE_SEAL_TIME_ZONE', default: 'Asia/Shanghai' },
  maxUploadBytes: { env: 'ARCHIVE_SEAL_MAX_UPLOAD_BYTES', default: String(2 * 1024 ** 3) },
  sqliteSynchronous: { env: 'ARCHIVE_SEAL_SQLITE_SYNCHRONOUS', default: 'FULL' },
} as const;

/** Thrown for a bad setting: names the variable and what it should be. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Reads and checks the configuration; fails loudly on any bad value. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const get = (key: keyof typeof SETTINGS): string => {
    const value = env[SETTINGS[key].env];
    return value === undefined || value === '' ? SETTINGS[key].default : value;
  };
  const integer = (key: keyof typeof SETTINGS, min: number, max: number): number => {
    const text = get(key);
    const n = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new ConfigError(`${SETTINGS[key].env}=${text}: expected an integer from ${min} to ${max}`);
    }
    return n;
  };
  let sealSchedule: SealSchedule;
  try {
    sealSchedule = parseSealSchedule(get('sealSchedule'), get('timeZone'));
  } catch (err) {
    throw new ConfigError(`${SETTINGS.sealSchedule.env}/${SETTINGS.timeZone.env}: ${(err as Error).message}`);
  }
  const synchronous = get('sqliteSynchronous');
  if (synchronous !== 'FULL' && synchronous !== 'NORMAL') {
    throw new ConfigError(`${SETTINGS.sqliteSynchronous.env}=${synchronous}: expected FULL or NORMAL`);
  }
  const centerId = get('centerId');
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(centerId)) {
    throw new ConfigError(`${SETTINGS.centerId.env}=${centerId}: letters, digits, '.', '_' and '-' only, up to 64`);
  }
  return Object.freeze({
    dataDir: resolve(get('dataDir')),
    host: get('host'),
    port: integer('port', 0, 65535),
    centerId,
    centerName: get('centerName'),
    sealSchedule,
    maxUploadBytes: integer('maxUploadBytes', 1, 1024 ** 4),
    sqliteSynchronous: synchronous,
  });
}
