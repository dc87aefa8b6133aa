import { hash } from 'node:crypto';
import { canonicalize, CanonicalJsonError } from '../core/canonical-json.js';
import { verifyDetachedCms } from '../core/cms-verify.js';
import type { RegistrationRecord } from '../core/record.js';
import { signDetached, type SigningIdentity } from '../pki/cms-signer.js';
import { buildTreeLevels, HASH_BYTES, saltedLeaf } from '../registry/tree-builder.js';
import { getCenterMeta } from '../store/accounts-repository.js';
import { listAnchors } from '../store/anchors-repository.js';
import type { AccountRow, PeriodRow, PeriodTimestampRow, RegistrationRow, Role } from '../store/database.js';
import { findPeriod } from '../store/periods-repository.js';
import type { Store } from '../store/store.js';
import { openSecret, sealSecret } from './sealed-secret.js';
import { VaultError } from './vault-error.js';

/**
 * A sealed period's signed bundle: everything needed to rebuild that part of the registry at
 * another site (the period, its registrations with their records and salts, the accounts they
 * name, its RFC 3161 timestamps and chain anchors), as RFC 8785 canonical JSON, signed by the
 * center with a detached CMS signature. The tree is not carried: it is rebuilt from the leaves
 * and must give the period's root, which checks more than carrying it would.
 *
 * A bundle is a function of the database: built again, it gives the same bytes until a
 * timestamp or anchor row changes (then it is sent again). Secrets travel sealed for this
 * center only (see sealed-secret.ts): the pseudonym key, and the names of private registrants.
 */
export const BUNDLE_FORMAT = 'archive-seal/period-bundle@1';
const ZERO_ROOT = '0'.repeat(64);

export interface BundleAccount {
  id: number;
  role: Role;
  pseudonymous: boolean;
  createdAt: string;
  /** The account's name; for a pseudonymous (private) account, `sealedName` instead. */
  name?: string;
  sealedName?: string;
}

export interface BundleRegistration {
  id: number;
  leafIndex: number;
  registrantId: number;
  sha256: string;
  sm3: string | null;
  size: number | null;
  hasFile: boolean;
  /** The record exactly as hashed (its canonical form is the stored text). */
  record: RegistrationRecord;
  salt: string;
  registeredAt: string;
}

export interface PeriodBundle {
  format: typeof BUNDLE_FORMAT;
  center: string;
  period: {
    id: number;
    openedAt: string;
    closedAt: string | null;
    sealedAt: string | null;
    leafCount: number;
    root: string | null;
    previousRoot: string | null;
  };
  accounts: BundleAccount[];
  registrations: BundleRegistration[];
  timestamps: {
    token: string;
    genTime: string;
    tsa: string;
    serial: string;
    authority: string;
    createdAt: string;
  }[];
  anchors: {
    id: number;
    chain: string;
    chainId: number;
    contract: string;
    status: string;
    txHash: string | null;
    nonce: number | null;
    blockNumber: number | null;
    blockHash: string | null;
    blockTime: string | null;
    confirmations: number;
    attempts: number;
    lastError: string | null;
    createdAt: string;
    updatedAt: string;
  }[];
  /** Center secrets sealed under the master key. */
  secrets: { pseudonymKey?: string };
}

/** A bundle's bytes and signature, and what names its content. */
export interface SignedBundle {
  periodId: number;
  bytes: Buffer;
  signature: Buffer;
  /** SHA-256 (hex) of `bytes`: what a peer confirms holding. */
  sha256: string;
  /** Names the parts that change after sealing (timestamps, anchors): a new revision is sent again. */
  revision: string;
}

/** The revision of a period's bundle: a digest of its period row, timestamps and anchors' states. */
export function bundleRevision(store: Store, periodId: number): string | undefined {
  const period = findPeriod(store, periodId);
  if (!period || period.status !== 'sealed') return undefined;
  const timestamps = listTimestamps(store, periodId);
  const anchors = listAnchors(store, periodId);
  return hash(
    'sha256',
    canonicalize({
      period: periodPart(period),
      timestamps: timestamps.map((t) => hash('sha256', t.token, 'hex')),
      // Confirmation counts and retry bookkeeping change often and matter little; the state does.
      anchors: anchors.map((a) => [a.id, a.status, a.tx_hash, a.block_number, a.block_hash]),
    }),
    'hex',
  );
}

/** Builds (not signs) the bundle of sealed period `periodId`. */
export function buildPeriodBundle(store: Store, periodId: number, options: { centerId: string; masterKey: Buffer }): PeriodBundle {
  const period = findPeriod(store, periodId);
  if (!period || period.status !== 'sealed') throw new VaultError('BUNDLE_INVALID', `period ${periodId} is not sealed`);
  const rows = store.prepare('SELECT * FROM registration WHERE period_id = ? ORDER BY leaf_index').all(periodId) as RegistrationRow[];
  const pseudonymKey = getCenterMeta(store, 'pseudonym-key');
  return {
    format: BUNDLE_FORMAT,
    center: options.centerId,
    period: periodPart(period),
    accounts: accountsOf(store, rows, options.masterKey),
    registrations: rows.map(registrationPart),
    timestamps: listTimestamps(store, periodId).map((t) => ({
      token: t.token.toString('base64'),
      genTime: t.gen_time,
      tsa: t.tsa,
      serial: t.serial,
      authority: t.authority,
      createdAt: t.created_at,
    })),
    anchors: listAnchors(store, periodId).map((a) => ({
      id: a.id,
      chain: a.chain,
      chainId: a.chain_id,
      contract: a.contract,
      status: a.status,
      txHash: a.tx_hash,
      nonce: a.nonce,
      blockNumber: a.block_number,
      blockHash: a.block_hash,
      blockTime: a.block_time,
      confirmations: a.confirmations,
      attempts: a.attempts,
      lastError: a.last_error,
      createdAt: a.created_at,
      updatedAt: a.updated_at,
    })),
    secrets: pseudonymKey ? { pseudonymKey: sealSecret(options.masterKey, 'pseudonym-key', Buffer.from(pseudonymKey, 'hex')) } : {},
  };
}

/**
 * Most bytes a bundle may have. The center building a bundle and the peer checking it each hold
 * the period's registrations as objects (about 1.5 KB of heap each) beside the bytes, and Node's
 * default heap here is 4 GB: 1.2 GB of bundle is about 1.5 million registrations. (The bundle is
 * never one JavaScript string, which V8 stops at about 537 million characters: it is written and
 * read a registration at a time, see {@link canonicalBundleBytes}; a bundle of 700,000
 * registrations, 802 MB, was written in 24 s and read back in 18 s at 2.8 GB peak memory.)
 */
export const MAX_BUNDLE_BYTES = 1_200_000_000;
/** A registration's share of a bundle beside its record: ids, digests, salt, time and member names. */
const REGISTRATION_OVERHEAD_BYTES = 400;

/**
 * Refuses, before anything is built, a period whose bundle would pass `maxBytes`: building it
 * would take gigabytes only for the peer to run out of memory checking it, again at each retry.
 * Records are counted by their UTF-8 bytes.
 */
function refuseOversizedBundle(store: Store, periodId: number, maxBytes: number): void {
  const { count, recordBytes } = store
    .prepare('SELECT count(*) AS count, coalesce(sum(octet_length(record)), 0) AS "recordBytes" FROM registration WHERE period_id = ?')
    .get(periodId) as { count: number; recordBytes: number };
  const estimate = recordBytes + count * REGISTRATION_OVERHEAD_BYTES;
  if (estimate > maxBytes) {
    throw new VaultError(
      'BUNDLE_TOO_LARGE',
      `period ${periodId} has ${count} registrations, about ${Math.round(estimate / 1e6)} MB as one bundle, more than a bundle can hold ` +
        `(${Math.round(maxBytes / 1e6)} MB): it cannot be copied to peers; seal on demand during large imports so that periods stay smaller`,
    );
  }
}

/**
 * Builds and signs the bundle of sealed period `periodId`; BUNDLE_TOO_LARGE for a period whose
 * bundle would pass `maxBytes` (default {@link MAX_BUNDLE_BYTES}).
 */
export function signPeriodBundle(
  store: Store,
  periodId: number,
  options: { centerId: string; masterKey: Buffer; signer: SigningIdentity; maxBytes?: number },
): SignedBundle {
  refuseOversizedBundle(store, periodId, options.maxBytes ?? MAX_BUNDLE_BYTES);
  const revision = bundleRevision(store, periodId);
  const bytes = canonicalBundleBytes(buildPeriodBundle(store, periodId, options));
  return {
    periodId,
    bytes,
    signature: Buffer.from(signDetached(bytes, options.signer)),
    sha256: hash('sha256', bytes, 'hex'),
    revision: revision!,
  };
}

const REGISTRATIONS_MEMBER = '"registrations":[';
const CHUNK_CHARS = 16 * 1024 * 1024;

/**
 * The RFC 8785 canonical bytes of `bundle`, byte for byte `canonicalize(bundle)` in UTF-8, written
 * a registration at a time: a period of a million registrations is more text than one JavaScript
 * string can hold. The members around `registrations` are canonicalized with an empty list, which
 * is then filled in (its elements are canonical JSON, joined by commas, as the whole would be).
 */
export function canonicalBundleBytes(bundle: PeriodBundle, chunkChars = CHUNK_CHARS): Buffer {
  const shell = canonicalize({ ...bundle, registrations: [] });
  const at = shell.indexOf(`${REGISTRATIONS_MEMBER}]`);
  // Quotes inside strings are escaped, so the member's text occurs only as the member itself.
  if (at < 0 || at !== shell.lastIndexOf(`${REGISTRATIONS_MEMBER}]`)) throw new Error('a bundle has one registrations member');
  const parts = [Buffer.from(shell.slice(0, at + REGISTRATIONS_MEMBER.length), 'utf8')];
  let chunk = '';
  bundle.registrations.forEach((r, i) => {
    chunk += (i === 0 ? '' : ',') + canonicalize(r);
    if (chunk.length >= chunkChars) {
      parts.push(Buffer.from(chunk, 'utf8'));
      chunk = '';
    }
  });
  parts.push(Buffer.from(chunk + shell.slice(at + REGISTRATIONS_MEMBER.length), 'utf8'));
  return Buffer.concat(parts);
}

/**
 * Reads bundle bytes written by {@link canonicalBundleBytes}, a registration at a time, and checks
 * that they are canonical: the members around `registrations` and every registration must be
 * exactly their own canonical JSON. Throws BUNDLE_INVALID otherwise.
 */
export function parseCanonicalBundle(bytes: Buffer): PeriodBundle {
  const invalid = (message: string): never => {
    throw new VaultError('BUNDLE_INVALID', message);
  };
  const at = bytes.indexOf(REGISTRATIONS_MEMBER);
  if (at < 0) invalid('the bundle is not JSON with a registrations list');
  const start = at + REGISTRATIONS_MEMBER.length;
  const { elements, end } = splitJsonArray(bytes, start) ?? invalid('the bundle is not JSON: its registrations list does not end');
  let shell: PeriodBundle;
  const shellText = bytes.toString('utf8', 0, start) + bytes.toString('utf8', end);
  try {
    shell = JSON.parse(shellText) as PeriodBundle;
  } catch {
    return invalid('the bundle is not JSON');
  }
  if (shell === null || typeof shell !== 'object' || !Array.isArray(shell.registrations) || shell.registrations.length !== 0) invalid('the bundle is not JSON of a period bundle');
  if (canonicalOrUndefined(shell) !== shellText) invalid(`period ${shell.period?.id}: the bundle is not in canonical form`);
  shell.registrations = elements.map(([from, to]) => {
    const text = bytes.toString('utf8', from, to);
    let registration: BundleRegistration;
    try {
      registration = JSON.parse(text) as BundleRegistration;
    } catch {
      return invalid(`period ${shell.period?.id}: a registration of the bundle is not JSON`);
    }
    if (canonicalOrUndefined(registration) !== text) invalid(`period ${shell.period?.id}: the bundle is not in canonical form`);
    return registration;
  });
  return shell;
}

/** canonicalize(value), or undefined for what RFC 8785 cannot write (e.g. nested too deep): bytes from a peer are input. */
function canonicalOrUndefined(value: unknown): string | undefined {
  try {
    return canonicalize(value);
  } catch (err) {
    if (err instanceof CanonicalJsonError) return undefined;
    throw err;
  }
}

/**
 * The byte ranges of the elements of the JSON array whose first element starts at `start` (just
 * after its `[`), and the offset of its closing `]`; undefined when the array does not end. Commas
 * and brackets inside strings are skipped (a string ends at a quote no backslash escapes).
 */
function splitJsonArray(bytes: Buffer, start: number): { elements: [number, number][]; end: number } | undefined {
  const elements: [number, number][] = [];
  let depth = 0;
  let inString = false;
  let escaped = false;
  let from = start;
  for (let i = start; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (inString) {
      if (escaped) escaped = false;
      else if (b === 0x5c) escaped = true;
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) {
      inString = true;
    } else if (b === 0x7b || b === 0x5b) {
      depth++;
    } else if (b === 0x7d || b === 0x5d) {
      if (depth === 0) {
        if (b !== 0x5d) return undefined;
        if (i > from || elements.length > 0) elements.push([from, i]);
        return { elements, end: i };
      }
      depth--;
    } else if (b === 0x2c && depth === 0) {
      elements.push([from, i]);
      from = i + 1;
    }
  }
  return undefined;
}

/** A bundle as sent and stored: 4-byte big-endian signature length ‖ DER signature ‖ bundle bytes. */
export function frameBundle(bundle: { bytes: Buffer; signature: Buffer }): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bundle.signature.length);
  return Buffer.concat([length, bundle.signature, bundle.bytes]);
}

/** Splits a framed bundle; throws BUNDLE_INVALID when the framing is wrong. */
export function unframeBundle(framed: Buffer): { bytes: Buffer; signature: Buffer } {
  if (framed.length < 4) throw new VaultError('BUNDLE_INVALID', 'the bundle is empty');
  const length = framed.readUInt32BE(0);
  if (length < 16 || 4 + length > framed.length) throw new VaultError('BUNDLE_INVALID', 'the bundle\'s framing is damaged');
  return { signature: framed.subarray(4, 4 + length), bytes: framed.subarray(4 + length) };
}

/** A bundle whose signature and tree have been checked, with its leaves and tree levels. */
export interface VerifiedBundle {
  bundle: PeriodBundle;
  /** Tree levels, leaves first (empty for an empty period). */
  levels: Buffer[];
  /** Subject of the signer's certificate. */
  signer: string;
}

/**
 * Checks a bundle: the detached CMS signature chains to one of `trustRoots`; every
 * registration's record hashes, with its salt, to a leaf (RFC 6962 §2.1 leaf prefix); leaf
 * indexes are 0..n-1 and n is the leaf count; the tree rebuilt from those leaves has the
 * period's root. Throws BUNDLE_INVALID naming the first failure.
 */
export async function verifyPeriodBundle(
  signed: { bytes: Buffer; signature: Buffer },
  trustRoots: readonly (string | Uint8Array)[],
): Promise<VerifiedBundle> {
  const cms = await verifyDetachedCms(signed.signature, signed.bytes, trustRoots);
  if (cms.status !== 'ok') throw new VaultError('BUNDLE_INVALID', `the bundle's signature does not verify: ${cms.code}: ${cms.message}`);
  const bundle = parseCanonicalBundle(signed.bytes);
  const fail = (message: string): never => {
    throw new VaultError('BUNDLE_INVALID', `period ${bundle.period?.id}: ${message}`);
  };
  if (bundle.format !== BUNDLE_FORMAT) fail(`unknown bundle format ${String(bundle.format)}`);
  const { period, registrations } = bundle;
  if (registrations.length !== period.leafCount) fail(`${registrations.length} registrations for ${period.leafCount} leaves`);
  const leaves = Buffer.alloc(registrations.length * HASH_BYTES);
  const accounts = new Set(bundle.accounts.map((a) => a.id));
  registrations.forEach((r, i) => {
    if (r.leafIndex !== i) fail(`registration ${r.id} has leaf index ${r.leafIndex}, expected ${i}`);
    if (r.record.registrationId !== r.id) fail(`registration ${r.id}'s record names registration ${r.record.registrationId}`);
    if (r.record.digests.sha256 !== r.sha256) fail(`registration ${r.id}'s record has another SHA-256`);
    if (!accounts.has(r.registrantId)) fail(`registration ${r.id}'s registrant ${r.registrantId} is not in the bundle`);
    const salt = Buffer.from(r.salt, 'hex');
    if (salt.length !== 32) fail(`registration ${r.id} has no 32-byte salt`);
    const recordDigest = hash('sha256', canonicalize(r.record), 'buffer');
    saltedLeaf(salt, recordDigest).copy(leaves, i * HASH_BYTES);
  });
  const levels = registrations.length === 0 ? [] : await buildTreeLevels(leaves);
  const root = levels.length === 0 ? null : levels[levels.length - 1]!.toString('hex');
  if (root !== period.root) fail(`the leaves give root ${root}, the period says ${period.root}`);
  if ((period.root === null) !== (period.previousRoot === null)) fail('a rooted period needs a previous root, an empty one has none');
  return { bundle, levels, signer: cms.signer?.subject ?? 'unknown' };
}

/** The root a first non-empty period names as its previous root. */
export const FIRST_PREVIOUS_ROOT = ZERO_ROOT;

/** The name of a bundle account, opening a private registrant's sealed name with the master key. */
export function accountName(account: BundleAccount, masterKey: Buffer | undefined): string {
  if (account.name !== undefined) return account.name;
  if (!masterKey || !account.sealedName) return `account-${account.id} (name sealed; restore with the master key)`;
  return openSecret(masterKey, 'account-name', account.sealedName).toString('utf8');
}

/** The center's pseudonym key from a bundle, opened with the master key. */
export function bundlePseudonymKey(bundle: PeriodBundle, masterKey: Buffer): Buffer | undefined {
  const sealed = bundle.secrets.pseudonymKey;
  return sealed ? openSecret(masterKey, 'pseudonym-key', sealed) : undefined;
}

function registrationPart(r: RegistrationRow): BundleRegistration {
  return {
    id: r.id,
    leafIndex: r.leaf_index,
    registrantId: r.registrant_id,
    sha256: r.sha256.toString('hex'),
    sm3: r.sm3?.toString('hex') ?? null,
    size: r.size,
    hasFile: r.has_file === 1,
    record: JSON.parse(r.record) as RegistrationRecord,
    salt: r.salt.toString('hex'),
    registeredAt: r.registered_at,
  };
}

function accountsOf(store: Store, rows: RegistrationRow[], masterKey: Buffer): BundleAccount[] {
  const ids = [...new Set(rows.map((r) => r.registrant_id))].sort((a, b) => a - b);
  if (ids.length === 0) return [];
  return store.all(store.db.selectFrom('account').selectAll().where('id', 'in', ids).orderBy('id')).map((a) => accountPart(a, masterKey));
}

function periodPart(p: PeriodRow): PeriodBundle['period'] {
  return {
    id: p.id,
    openedAt: p.opened_at,
    closedAt: p.closed_at,
    sealedAt: p.sealed_at,
    leafCount: p.leaf_count,
    root: p.root?.toString('hex') ?? null,
    previousRoot: p.previous_root?.toString('hex') ?? null,
  };
}

function accountPart(a: AccountRow, masterKey: Buffer): BundleAccount {
  const base = { id: a.id, role: a.role, pseudonymous: a.pseudonymous === 1, createdAt: a.created_at };
  return a.pseudonymous === 1
    ? { ...base, sealedName: sealSecret(masterKey, 'account-name', Buffer.from(a.name, 'utf8')) }
    : { ...base, name: a.name };
}

function listTimestamps(store: Store, periodId: number): PeriodTimestampRow[] {
  return store.all(store.db.selectFrom('period_timestamp').selectAll().where('period_id', '=', periodId));
}


/**
 * A journal segment: registrations of a period not yet sealed (ids `firstId`..`lastId`), signed
 * like a bundle, so that a site lost before its next seal loses none of the registrations it
 * had already replicated. Its leaves are checked against the records and salts; there is no
 * root to check yet. The sealed period's bundle replaces its segments.
 */
export const JOURNAL_FORMAT = 'archive-seal/journal@1';

export interface JournalSegment {
  format: typeof JOURNAL_FORMAT;
  center: string;
  period: { id: number; openedAt: string };
  accounts: BundleAccount[];
  registrations: BundleRegistration[];
  secrets: { pseudonymKey?: string };
}

/** The name of a segment: `<period id>:<first registration id>-<last registration id>`. */
export function journalKey(periodId: number, firstId: number, lastId: number): string {
  return `${periodId}:${firstId}-${lastId}`;
}

export function parseJournalKey(key: string): { periodId: number; firstId: number; lastId: number } | undefined {
  const m = /^([1-9]\d{0,15}):([1-9]\d{0,15})-([1-9]\d{0,15})$/.exec(key);
  if (!m) return undefined;
  const [periodId, firstId, lastId] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return firstId <= lastId ? { periodId, firstId, lastId } : undefined;
}

/**
 * The bytes of journal segment `key` (RFC 8785 canonical JSON), the same each time they are built
 * from the same rows; undefined when its period is sealed by now (the bundle covers it).
 */
export function buildJournalBytes(store: Store, key: string, options: { centerId: string; masterKey: Buffer }): Buffer | undefined {
  const range = parseJournalKey(key);
  if (!range) throw new VaultError('BUNDLE_INVALID', `${key} does not name a journal segment`);
  const period = findPeriod(store, range.periodId);
  if (!period || period.status === 'sealed') return undefined;
  const rows = store
    .prepare('SELECT * FROM registration WHERE period_id = ? AND id BETWEEN ? AND ? ORDER BY leaf_index')
    .all(range.periodId, range.firstId, range.lastId) as RegistrationRow[];
  const pseudonymKey = getCenterMeta(store, 'pseudonym-key');
  const segment: JournalSegment = {
    format: JOURNAL_FORMAT,
    center: options.centerId,
    period: { id: period.id, openedAt: period.opened_at },
    accounts: accountsOf(store, rows, options.masterKey),
    registrations: rows.map(registrationPart),
    secrets: pseudonymKey ? { pseudonymKey: sealSecret(options.masterKey, 'pseudonym-key', Buffer.from(pseudonymKey, 'hex')) } : {},
  };
  return Buffer.from(canonicalize(segment), 'utf8');
}

/** Builds and signs the journal segment `key`; undefined when its period is sealed by now (the bundle covers it). */
export function signJournal(
  store: Store,
  key: string,
  options: { centerId: string; masterKey: Buffer; signer: SigningIdentity },
): { bytes: Buffer; signature: Buffer; sha256: string } | undefined {
  const bytes = buildJournalBytes(store, key, options);
  if (!bytes) return undefined;
  return { bytes, signature: Buffer.from(signDetached(bytes, options.signer)), sha256: hash('sha256', bytes, 'hex') };
}

/** Checks a journal segment's signature and that it is what `key` names; returns it. */
export async function verifyJournal(signed: { bytes: Buffer; signature: Buffer }, key: string, trustRoots: readonly (string | Uint8Array)[]): Promise<JournalSegment> {
  const range = parseJournalKey(key);
  if (!range) throw new VaultError('BUNDLE_INVALID', `${key} does not name a journal segment`);
  const cms = await verifyDetachedCms(signed.signature, signed.bytes, trustRoots);
  if (cms.status !== 'ok') throw new VaultError('BUNDLE_INVALID', `the journal segment's signature does not verify: ${cms.code}: ${cms.message}`);
  let segment: JournalSegment;
  try {
    segment = JSON.parse(signed.bytes.toString('utf8')) as JournalSegment;
  } catch {
    throw new VaultError('BUNDLE_INVALID', 'the journal segment is not JSON');
  }
  const fail = (message: string): never => {
    throw new VaultError('BUNDLE_INVALID', `journal ${key}: ${message}`);
  };
  if (segment.format !== JOURNAL_FORMAT) fail(`unknown format ${String(segment.format)}`);
  if (segment.period.id !== range.periodId) fail(`the segment is period ${segment.period.id}'s`);
  const accounts = new Set(segment.accounts.map((a) => a.id));
  let previous = -1;
  for (const r of segment.registrations) {
    if (r.id < range.firstId || r.id > range.lastId) fail(`registration ${r.id} is outside the segment`);
    if (r.leafIndex <= previous) fail('leaf indexes are not increasing');
    previous = r.leafIndex;
    if (r.record.registrationId !== r.id || r.record.digests.sha256 !== r.sha256) fail(`registration ${r.id}'s record does not match it`);
    if (!accounts.has(r.registrantId)) fail(`registration ${r.id}'s registrant is not in the segment`);
    if (Buffer.from(r.salt, 'hex').length !== 32) fail(`registration ${r.id} has no 32-byte salt`);
  }
  return segment;
}
