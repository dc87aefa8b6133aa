import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { ChainSettings } from './anchor/anchor-chain.js';
import { findRefusedCharacter } from './core/user-text.js';
import { DEVELOPMENT_CERTS_DIR } from './pki/dev-pki.js';
import { parseSealSchedule, type SealSchedule } from './registry/seal-schedule.js';
import type { ConnectionLimits } from './http/connection-limits.js';
import { isPostgresUrl, redactDatabaseUrl } from './store/dialect.js';
import { parsePeers, type BackupConfig } from './vault/peer-config.js';

/** Where periods are anchored: nowhere, the embedded local chain, or configured chains. */
export type ChainsConfig =
  | { kind: 'none' }
  | { kind: 'local'; port: number; confirmations: number }
  | { kind: 'configured'; chains: readonly ChainSettings[] };

/** Everything the service is configured with; built once, from the environment, in main. */
export interface Config {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly centerId: string;
  readonly centerName: string;
  readonly sealSchedule: SealSchedule;
  /** IANA zone of local times (seal schedule, certificate PDFs). */
  readonly timeZone: string;
  readonly maxUploadBytes: number;
  readonly sqliteSynchronous: 'FULL' | 'NORMAL';
  /** A PostgreSQL database URL: the registry lives there instead of `dataDir`'s SQLite file. */
  readonly databaseUrl: string | undefined;
  /** How often a process asks for the duties lease (and, holding it, looks for work another left). */
  readonly dutiesPollMs: number;
  readonly chains: ChainsConfig;
  /** A sent anchor the node has forgotten (dropped) for this long is sent again, same nonce. */
  readonly anchorResendAfterMs: number;
  /** Directory of the center's PKI files (root-ca.pem, center.pem, center.key.pem, tsa.pem, tsa.key.pem). */
  readonly pkiDir: string;
  /** An external RFC 3161 TSA; undefined: the built-in one. */
  readonly tsaUrl: string | undefined;
  /** PEM file of the roots the external TSA chains to; default the center's root. */
  readonly tsaTrustFile: string | undefined;
  /** TSA policy OID (RFC 3161 §2.4.2) of the built-in TSA's tokens; undefined: see `tsaPolicyOid` in pki/tsa-policy.ts. */
  readonly tsaPolicyOid: string | undefined;
  /** The center's public base URL (no trailing slash) for links it hands out, e.g. the certificate PDF's QR code; undefined: the origin each request came to. */
  readonly publicUrl: string | undefined;
  /** The vault, peers, replication and fixity audits. */
  readonly backup: BackupConfig;
  /** How long the API and the peer listener wait for what clients send (headers; bodies' progress). */
  readonly connections: ConnectionLimits;
  /** Evidence renewal (RFC 4998 style) of the periods' timestamps. */
  readonly renewal: RenewalConfig;
  /** The regions a unit may be in: the city itself and its counties (a unit's `region` is one of these). */
  readonly regions: readonly string[];
}

/** Quzhou and its six counties, cities and districts: the center of 衢委办〔2010〕59号. */
export const DEFAULT_REGIONS = '衢州市,柯城区,衢江区,龙游县,江山市,常山县,开化县';

/** When the center timestamps a period's root and last token again. */
export interface RenewalConfig {
  /** Renew a token whose signer's certificate expires within this many days. */
  readonly renewBeforeDays: number;
  /** Algorithm OIDs retired: tokens using one are renewed. */
  readonly retiredAlgorithms: ReadonlySet<string>;
  /** How often the renewer looks (also at start). */
  readonly checkIntervalMs: number;
}

/** Names accepted in ARCHIVE_SEAL_RETIRED_ALGORITHMS besides dotted OIDs. */
const ALGORITHM_NAMES: Readonly<Record<string, readonly string[]>> = {
  // SHA-1 as a digest, and signatures over it (RSA, ECDSA).
  sha1: ['1.3.14.3.2.26', '1.2.840.113549.1.1.5', '1.2.840.10045.4.1'],
  sha256: ['2.16.840.1.101.3.4.2.1', '1.2.840.113549.1.1.11', '1.2.840.10045.4.3.2'],
  'rsa-pkcs1': ['1.2.840.113549.1.1.1', '1.2.840.113549.1.1.5', '1.2.840.113549.1.1.11', '1.2.840.113549.1.1.12', '1.2.840.113549.1.1.13'],
};

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
  databaseUrl: { env: 'ARCHIVE_SEAL_DATABASE_URL', default: '' },
  dutiesPollMs: { env: 'ARCHIVE_SEAL_DUTIES_POLL_MS', default: '2000' },
  chains: { env: 'ARCHIVE_SEAL_CHAINS', default: 'local' },
  localChainPort: { env: 'ARCHIVE_SEAL_LOCAL_CHAIN_PORT', default: '8545' },
  confirmations: { env: 'ARCHIVE_SEAL_CONFIRMATIONS', default: '1' },
  anchorResendAfterMs: { env: 'ARCHIVE_SEAL_ANCHOR_RESEND_AFTER_MS', default: '30000' },
  pkiDir: { env: 'ARCHIVE_SEAL_PKI_DIR', default: DEVELOPMENT_CERTS_DIR },
  tsaUrl: { env: 'ARCHIVE_SEAL_TSA_URL', default: '' },
  tsaTrustFile: { env: 'ARCHIVE_SEAL_TSA_TRUST', default: '' },
  tsaPolicyOid: { env: 'ARCHIVE_SEAL_TSA_POLICY_OID', default: '' },
  publicUrl: { env: 'ARCHIVE_SEAL_PUBLIC_URL', default: '' },
  masterKeyFile: { env: 'ARCHIVE_SEAL_MASTER_KEY_FILE', default: '' },
  peerPort: { env: 'ARCHIVE_SEAL_PEER_PORT', default: 'off' },
  tlsCert: { env: 'ARCHIVE_SEAL_TLS_CERT', default: '' },
  tlsKey: { env: 'ARCHIVE_SEAL_TLS_KEY', default: '' },
  peerTrustRoot: { env: 'ARCHIVE_SEAL_PEER_TRUST_ROOT', default: '' },
  peers: { env: 'ARCHIVE_SEAL_PEERS', default: '[]' },
  minCopies: { env: 'ARCHIVE_SEAL_MIN_COPIES', default: '2' },
  replicationPollMs: { env: 'ARCHIVE_SEAL_REPLICATION_POLL_MS', default: '5000' },
  replicationMaxBackoffMs: { env: 'ARCHIVE_SEAL_REPLICATION_MAX_BACKOFF_MS', default: '600000' },
  auditIntervalMs: { env: 'ARCHIVE_SEAL_AUDIT_INTERVAL_MS', default: String(24 * 3600 * 1000) },
  auditCycleDays: { env: 'ARCHIVE_SEAL_AUDIT_CYCLE_DAYS', default: '365' },
  minFreeDiskBytes: { env: 'ARCHIVE_SEAL_MIN_FREE_DISK_BYTES', default: String(5 * 1024 ** 3) },
  headersTimeoutMs: { env: 'ARCHIVE_SEAL_HEADERS_TIMEOUT_MS', default: '60000' },
  bodyTimeoutMs: { env: 'ARCHIVE_SEAL_BODY_TIMEOUT_MS', default: '60000' },
  minBodyBytesPerSecond: { env: 'ARCHIVE_SEAL_MIN_BODY_BYTES_PER_SECOND', default: '1024' },
  renewBeforeDays: { env: 'ARCHIVE_SEAL_RENEW_BEFORE_DAYS', default: '180' },
  retiredAlgorithms: { env: 'ARCHIVE_SEAL_RETIRED_ALGORITHMS', default: 'sha1' },
  renewalCheckMs: { env: 'ARCHIVE_SEAL_RENEWAL_CHECK_MS', default: String(24 * 3600 * 1000) },
  regions: { env: 'ARCHIVE_SEAL_REGIONS', default: DEFAULT_REGIONS },
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
  const databaseUrl = get('databaseUrl');
  if (databaseUrl !== '' && !isPostgresUrl(databaseUrl)) {
    throw new ConfigError(`${SETTINGS.databaseUrl.env}=${redactDatabaseUrl(databaseUrl)}: expected postgres://user:password@host:port/database (unset: the SQLite file in the data directory)`);
  }
  const centerId = get('centerId');
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(centerId)) {
    throw new ConfigError(`${SETTINGS.centerId.env}=${centerId}: letters, digits, '.', '_' and '-' only, up to 64`);
  }
  const tsaUrl = get('tsaUrl');
  if (tsaUrl !== '' && !/^https?:\/\//.test(tsaUrl)) throw new ConfigError(`${SETTINGS.tsaUrl.env}=${tsaUrl}: expected an http(s) URL`);
  const tsaPolicyOid = get('tsaPolicyOid');
  if (tsaPolicyOid !== '' && !/^[0-2](\.(0|[1-9][0-9]*)){1,63}$/.test(tsaPolicyOid)) {
    throw new ConfigError(`${SETTINGS.tsaPolicyOid.env}=${tsaPolicyOid}: expected an object identifier in dotted form, e.g. 1.2.156.112562.1.1 (your organisation's TSA policy)`);
  }
  const publicUrl = get('publicUrl').replace(/\/+$/, '');
  // 512 characters at most: with a certificate's link it must still fit the PDF's QR code.
  if (publicUrl !== '' && (publicUrl.length > 512 || !/^https?:\/\/[^/?#\s]+(\/[^?#\s]*)?$/.test(publicUrl))) {
    throw new ConfigError(`${SETTINGS.publicUrl.env}=${publicUrl}: expected an http(s) URL of at most 512 characters without query or fragment, e.g. https://records.example.gov.cn`);
  }
  return Object.freeze({
    chains: chainsConfig(get('chains'), () => integer('localChainPort', 0, 65535), () => integer('confirmations', 1, 1000)),
    anchorResendAfterMs: integer('anchorResendAfterMs', 1000, 24 * 3600 * 1000),
    pkiDir: resolve(get('pkiDir')),
    tsaUrl: tsaUrl === '' ? undefined : tsaUrl,
    tsaTrustFile: get('tsaTrustFile') === '' ? undefined : resolve(get('tsaTrustFile')),
    tsaPolicyOid: tsaPolicyOid === '' ? undefined : tsaPolicyOid,
    publicUrl: publicUrl === '' ? undefined : publicUrl,
    dataDir: resolve(get('dataDir')),
    host: get('host'),
    port: integer('port', 0, 65535),
    centerId,
    centerName: get('centerName'),
    sealSchedule,
    timeZone: get('timeZone'),
    maxUploadBytes: integer('maxUploadBytes', 1, 1024 ** 4),
    sqliteSynchronous: synchronous,
    databaseUrl: databaseUrl === '' ? undefined : databaseUrl,
    dutiesPollMs: integer('dutiesPollMs', 100, 600_000),
    backup: backupConfig(get, integer, resolve(get('dataDir'))),
    connections: Object.freeze({
      headersTimeoutMs: integer('headersTimeoutMs', 100, 3600 * 1000),
      bodyTimeoutMs: integer('bodyTimeoutMs', 100, 3600 * 1000),
      minBodyBytesPerSecond: integer('minBodyBytesPerSecond', 0, 1024 ** 3),
    }),
    renewal: Object.freeze({
      renewBeforeDays: integer('renewBeforeDays', 1, 3650),
      retiredAlgorithms: retiredAlgorithms(get('retiredAlgorithms')),
      checkIntervalMs: integer('renewalCheckMs', 100, 7 * 24 * 3600 * 1000),
    }),
    regions: regionList(get('regions')),
  });
}

/** A comma-separated list of region names (the city, then its counties), each given once. */
function regionList(value: string): readonly string[] {
  const names = value.split(',').map((name) => name.trim());
  for (const name of names) {
    if (name === '' || name.length > 50 || findRefusedCharacter(name) !== undefined) {
      throw new ConfigError(`${SETTINGS.regions.env}=${value}: expected region names separated by commas, e.g. ${DEFAULT_REGIONS}`);
    }
  }
  if (new Set(names).size !== names.length) throw new ConfigError(`${SETTINGS.regions.env}=${value}: a region is listed twice`);
  return Object.freeze(names);
}

/** `none`, or a comma-separated list of names (sha1, sha256, rsa-pkcs1) and dotted OIDs. */
function retiredAlgorithms(value: string): ReadonlySet<string> {
  if (value === 'none') return new Set();
  const oids = new Set<string>();
  for (const item of value.split(',').map((x) => x.trim().toLowerCase())) {
    const named = ALGORITHM_NAMES[item];
    if (named) named.forEach((oid) => oids.add(oid));
    else if (/^[0-2](\.\d+)+$/.test(item)) oids.add(item);
    else throw new ConfigError(`${SETTINGS.retiredAlgorithms.env}=${value}: "${item}" is neither ${Object.keys(ALGORITHM_NAMES).join(', ')} nor a dotted OID (or set none)`);
  }
  return oids;
}

/** The vault, peer and audit settings; peers need this center's TLS certificate and key. */
function backupConfig(
  get: (key: keyof typeof SETTINGS) => string,
  integer: (key: keyof typeof SETTINGS, min: number, max: number) => number,
  dataDir: string,
): BackupConfig {
  const file = (key: keyof typeof SETTINGS): string | null => (get(key) === '' ? null : resolve(get(key)));
  let peers;
  try {
    peers = parsePeers(get('peers'));
  } catch (err) {
    throw new ConfigError(`${SETTINGS.peers.env}: ${(err as Error).message}`);
  }
  const day = 24 * 3600 * 1000;
  const backup: BackupConfig = Object.freeze({
    masterKeyFile: file('masterKeyFile') ?? resolve(dataDir, 'master.key'),
    peerPort: get('peerPort') === 'off' ? null : integer('peerPort', 0, 65535),
    tlsCertFile: file('tlsCert'),
    tlsKeyFile: file('tlsKey'),
    trustRootFile: file('peerTrustRoot'),
    peers: Object.freeze(peers),
    minCopies: integer('minCopies', 1, 100),
    replicationPollMs: integer('replicationPollMs', 10, day),
    replicationMaxBackoffMs: integer('replicationMaxBackoffMs', 10, 7 * day),
    auditIntervalMs: integer('auditIntervalMs', 0, 366 * day),
    auditCycleDays: integer('auditCycleDays', 1, 3650),
    minFreeDiskBytes: integer('minFreeDiskBytes', 0, 1024 ** 5),
  });
  if ((backup.peerPort !== null || backup.peers.length > 0) && (!backup.tlsCertFile || !backup.tlsKeyFile)) {
    throw new ConfigError(`peers talk over mutual TLS: set ${SETTINGS.tlsCert.env} and ${SETTINGS.tlsKey.env} (PEM files)`);
  }
  return backup;
}

/**
 * `local` (the embedded anvil chain), `none`, or the path of a JSON file listing chains:
 * `[{ "name", "rpcUrl", "publicRpcUrl"?, "chainId", "contract", "deployBlock"?, "keyFile",
 * "confirmations"? }]` (keyFile relative to the JSON file; it holds the 0x-hex private key).
 */
function chainsConfig(value: string, port: () => number, confirmations: () => number): ChainsConfig {
  if (value === 'none') return { kind: 'none' };
  if (value === 'local') return { kind: 'local', port: port(), confirmations: confirmations() };
  const where = `${SETTINGS.chains.env}=${value}`;
  let list: unknown;
  try {
    list = JSON.parse(readFileSync(value, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${where}: expected local, none or a readable JSON file of chains (${(err as Error).message})`);
  }
  if (!Array.isArray(list) || list.length === 0) throw new ConfigError(`${where}: the file must hold a non-empty JSON array`);
  const names = new Set<string>();
  const chains = list.map((entry: Record<string, unknown>, i): ChainSettings => {
    const at = `${where} [${i}]`;
    const text = (key: string, pattern: RegExp): string => {
      const v = entry?.[key];
      if (typeof v !== 'string' || !pattern.test(v)) throw new ConfigError(`${at}.${key}: missing or malformed`);
      return v;
    };
    const int = (key: string, fallback?: number): number => {
      const v = entry?.[key] ?? fallback;
      if (!Number.isSafeInteger(v) || (v as number) < 0) throw new ConfigError(`${at}.${key}: expected a non-negative integer`);
      return v as number;
    };
    const name = text('name', /^[a-z0-9][a-z0-9-]{0,31}$/);
    if (names.has(name)) throw new ConfigError(`${at}.name: "${name}" is listed twice`);
    names.add(name);
    const rpcUrl = text('rpcUrl', /^https?:\/\//);
    const keyFile = resolve(dirname(value), text('keyFile', /./));
    let privateKey: string;
    try {
      privateKey = readFileSync(keyFile, 'utf8').trim();
    } catch {
      throw new ConfigError(`${at}.keyFile: cannot read ${keyFile}`);
    }
    if (!/^0x[0-9a-fA-F]{64}$/.test(privateKey)) throw new ConfigError(`${at}.keyFile: ${keyFile} does not hold a 0x-hex private key`);
    return {
      name,
      rpcUrl,
      publicRpcUrl: entry.publicRpcUrl === undefined ? rpcUrl : text('publicRpcUrl', /^https?:\/\//),
      chainId: int('chainId'),
      contract: text('contract', /^0x[0-9a-fA-F]{40}$/),
      deployBlock: int('deployBlock', 0),
      privateKey,
      confirmations: int('confirmations', 1) || 1,
    };
  });
  return { kind: 'configured', chains };
}
