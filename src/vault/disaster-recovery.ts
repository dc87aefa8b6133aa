import { hash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { canonicalize } from '../core/canonical-json.js';
import { syncPath } from '../durable-files.js';
import type { CenterPki } from '../pki/center-pki.js';
import { saltedLeaf } from '../registry/tree-builder.js';
import { sha256Key } from '../store/registrations-repository.js';
import { deleteCenterMeta, getCenterMeta, setCenterMeta } from '../store/accounts-repository.js';
import type { AccountRow, AnchorRow, AnchorStatus, RegistrationRow } from '../store/database.js';
import { ensureReplica, markReplicaVerified } from '../store/replicas-repository.js';
import { insertRestoredPeriod, insertRestoredRegistrations, registryIsEmpty } from '../store/restore-repository.js';
import { Store } from '../store/store.js';
import type { Peer } from './peer-client.js';
import {
  accountName,
  bundlePseudonymKey,
  FIRST_PREVIOUS_ROOT,
  parseJournalKey,
  unframeBundle,
  verifyJournal,
  verifyPeriodBundle,
  type BundleAccount,
  type BundleRegistration,
  type PeriodBundle,
} from './period-bundle.js';
import type { MasterKey } from './master-key.js';
import { recordUnheldBlobs } from './fixity-auditor.js';
import { verifyCertificateSegment, type SegmentCertificate } from './certificate-segment.js';
import { LOCAL_CHAIN_NAME, restoreChainState, verifyChainStateDocument } from './chain-state-copy.js';
import { PreservationLog } from './preservation-log.js';
import { Vault } from './vault.js';
import { VaultError } from './vault-error.js';


export interface RecoveryReport {
  /**
   * True when this run resumed an earlier one whose registry was already whole in the data
   * directory: it fetched only the originals still missing (`periods` and `registrations` are 0).
   */
  resumed: boolean;
  periods: number;
  registrations: number;
  /** Registrations of periods not yet sealed, restored from journal segments (they are sealed next). */
  unsealedRegistrations: number;
  /** Issued certificates restored (same public link ids, same documents). */
  certificates: number;
  /** The embedded chain's state, restored into `DIR/chain` (its block height), or null when the peer held none. */
  chain: { bestBlock: number } | null;
  /** Last period restored and its root: new registrations continue after it. */
  lastPeriod: { id: number; root: string | null } | null;
  blobs: { restored: number; failed: { sha256: string; problem: string }[]; skipped: number };
  warnings: string[];
}

export interface RecoveryOptions {
  dataDir: string;
  centerId: string;
  peer: Peer;
  /** The id the configured peer has here (its copies are then counted as verified), if configured. */
  configuredPeerId?: string;
  pki: CenterPki;
  /** Without it the registry is restored but the originals cannot be checked or read. */
  masterKey: MasterKey | undefined;
  log?: (line: string) => void;
}

const DATABASE = 'archive-seal.sqlite';
/** The embedded chain's directory under the data directory (see local-chain-setup.ts). */
const CHAIN_DIR = 'chain';
/** Where the registry is rebuilt before it is moved into the data directory, whole. */
export const RECOVERY_STAGING_DIR = 'recovery-in-progress';
/** Set (in center_meta) while some originals of a recovered registry are still to be fetched. */
const ORIGINALS_PENDING = 'recovery-originals-pending';

/**
 * Rebuilds a center whose data directory is gone from one peer's copies: every signed period
 * bundle is checked (CMS signature to the trusted root, every record to its leaf, the leaves to
 * the period's root, each root to the next period's previous root) and written back with its
 * original ids; then every deposited original is fetched, decrypted with the master key and
 * checked against its registered SHA-256, SM3 and size before it goes into the vault.
 *
 * Registrations of the period that was still open come back from the signed journal segments
 * the peer holds (all but those made after the last replication pass); the restored center seals
 * them next. What only the lost site had cannot come back: tokens, downloads and events recorded
 * there, and registrations that never reached a peer.
 *
 * The registry is built in `DIR/recovery-in-progress/` and moved into DIR only once it is whole,
 * with a `missing` vault row for every original, so that no center ever starts
 * from half a registry, even after a kill -9: a rerun removes such a leftover and starts over.
 * Originals are then fetched into the vault one by one; one that could not be fetched keeps its
 * `missing` row and raises an alarm; the running center's audit repairs it from a peer, and running the
 * recovery again on the same DIR resumes: it fetches only the originals still missing.
 */
export async function recoverFromPeer(options: RecoveryOptions): Promise<RecoveryReport> {
  const log = options.log ?? (() => {});
  const databaseFile = join(options.dataDir, DATABASE);
  const staging = join(options.dataDir, RECOVERY_STAGING_DIR);
  const report: RecoveryReport = { resumed: false, periods: 0, registrations: 0, unsealedRegistrations: 0, certificates: 0, chain: null, lastPeriod: null, blobs: { restored: 0, failed: [], skipped: 0 }, warnings: [] };
  if (existsSync(databaseFile)) {
    const probe = await Store.open({ file: databaseFile });
    const empty = registryIsEmpty(probe);
    const pending = getCenterMeta(probe, ORIGINALS_PENDING) !== undefined;
    probe.close();
    if (pending) {
      rmSync(staging, { recursive: true, force: true });
      report.resumed = true;
      log(`resuming the recovery in ${options.dataDir}: the registry is restored; fetching the originals still missing`);
      const hello = await helloOf(options, report.warnings);
      await restoreOriginals(databaseFile, hello.center, options, report, log);
      return report;
    }
    if (!empty) throw new VaultError('RECOVERY_FAILED', `${options.dataDir} already holds a registry; recover into an empty data directory`);
  }
  if (existsSync(staging)) {
    log(`removing ${staging}, left by a recovery that stopped before its registry was whole; starting over`);
    rmSync(staging, { recursive: true, force: true });
  }
  const hello = await helloOf(options, report.warnings);
  const held = await options.peer.listBundles();
  if (held.length === 0) throw new VaultError('RECOVERY_FAILED', `peer ${hello.center} holds no period bundles for ${hello.you}`);
  log(`peer ${hello.center} holds ${held.length} period bundles for ${hello.you}`);

  mkdirSync(staging, { recursive: true, mode: 0o700 });
  const stagedFile = join(staging, DATABASE);
  try {
    await restoreRegistry(stagedFile, held, hello.center, options, report, log);
    // Into place in one rename (no WAL beside it: restoreRegistry left the file in rollback mode).
    // An empty registry found here (checked above) is replaced.
    for (const suffix of ['-wal', '-shm', '']) rmSync(databaseFile + suffix, { force: true });
    if (existsSync(join(staging, CHAIN_DIR))) {
      // The embedded chain's state goes in first: a center started from DIR must find the chain
      // its restored anchors name, not make a new one.
      rmSync(join(options.dataDir, CHAIN_DIR), { recursive: true, force: true });
      renameSync(join(staging, CHAIN_DIR), join(options.dataDir, CHAIN_DIR));
    }
    renameSync(stagedFile, databaseFile);
    await syncPath(options.dataDir);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  await restoreOriginals(databaseFile, hello.center, options, report, log);
  return report;
}

async function helloOf(options: RecoveryOptions, warnings: string[]): Promise<{ center: string; you: string }> {
  const hello = await options.peer.hello();
  if (hello.you !== options.centerId) {
    warnings.push(`peer ${hello.center} knows this certificate as center "${hello.you}", this center is configured as "${options.centerId}"`);
  }
  return hello;
}

/**
 * Writes the registry from the peer's bundles and journal segments into `file` (a staging
 * database), with a `missing` vault row for every original it names (given the master key) and the
 * mark that originals are still to be fetched. Leaves the file without a WAL, ready to be moved.
 */
async function restoreRegistry(
  file: string,
  held: { periodId: number }[],
  peerName: string,
  options: RecoveryOptions,
  report: RecoveryReport,
  log: (line: string) => void,
): Promise<void> {
  const { warnings } = report;
  const trustRoots = options.pki.roots.map((r) => r.pem);
  const store = await Store.open({ file });
  try {
    const events = new PreservationLog(store, log, `center ${options.centerId} (recovery)`);
    if (options.masterKey) setCenterMeta(store, 'vault-master-key-id', options.masterKey.id);
    let lastRoot = FIRST_PREVIOUS_ROOT;
    let lastId = 0;
    let newest: PeriodBundle | undefined;
    for (const { periodId } of held.sort((a, b) => a.periodId - b.periodId)) {
      const signed = unframeBundle(await options.peer.getBundle(periodId));
      const { bundle, levels } = await verifyPeriodBundle(signed, trustRoots);
      const { period } = bundle;
      if (bundle.center !== options.centerId) throw new VaultError('BUNDLE_INVALID', `period ${periodId}'s bundle is center ${bundle.center}'s`);
      if (period.id !== periodId || period.id <= lastId) throw new VaultError('BUNDLE_INVALID', `the bundle held as period ${periodId} is period ${period.id}'s`);
      if (period.id !== lastId + 1) warnings.push(`periods ${lastId + 1}..${period.id - 1} are not held by the peer (empty periods are harmless; a missing non-empty one would break the chain of roots)`);
      if (period.root !== null) {
        if (period.previousRoot !== lastRoot) {
          throw new VaultError('BUNDLE_INVALID', `period ${period.id} names previous root ${period.previousRoot}, but the last restored root is ${lastRoot}: a period in between is missing or altered`);
        }
        lastRoot = period.root;
      }
      store.transaction(() => insertRestoredPeriod(store, toRows(bundle, levels, options.masterKey)));
      events.event({
        type: 'recovery',
        objectKind: 'period',
        objectId: String(period.id),
        copy: 'local',
        agent: `peer ${peerName}`,
        outcome: 'success',
        detail: `restored from the signed bundle (${bundle.registrations.length} registrations, root ${period.root ?? 'none: empty'}); signature, leaves and root checked`,
      });
      report.periods++;
      report.registrations += bundle.registrations.length;
      report.lastPeriod = { id: period.id, root: period.root };
      lastId = period.id;
      newest = bundle;
    }
    report.unsealedRegistrations = await restoreJournals(store, options, lastId, log);
    refuseMissingRegistrations(store);
    report.certificates = await restoreCertificates(store, options, log);
    report.chain = await restoreChain(join(dirname(file), CHAIN_DIR), options, warnings, log);

    if (newest && options.masterKey) {
      const key = bundlePseudonymKey(newest, options.masterKey.key);
      if (key) setCenterMeta(store, 'pseudonym-key', key.toString('hex'));
    } else if (newest?.secrets.pseudonymKey) {
      warnings.push('without the master key the pseudonym key stays sealed: private registrants will get new pseudonyms');
    }
    log(`registry restored: ${report.periods} periods, ${report.registrations} registrations`);
    store.transaction(() => {
      // Until fetched, each original is a `missing` vault row: a center started from DIR counts
      // it below the minimum copies and repairs it from a peer (kill -9 while fetching included).
      if (options.masterKey) recordUnheldBlobs(store, options.masterKey.id, new Date().toISOString());
      setCenterMeta(store, ORIGINALS_PENDING, new Date().toISOString());
    });
    store.sqlite.pragma('journal_mode = DELETE');
  } finally {
    store.close();
  }
}

/**
 * Fetches the originals the recovered registry names and the vault does not hold, each checked
 * end to end; clears the mark that originals are pending once none is left.
 */
async function restoreOriginals(databaseFile: string, peerName: string, options: RecoveryOptions, report: RecoveryReport, log: (line: string) => void): Promise<void> {
  const store = await Store.open({ file: databaseFile });
  const vault = options.masterKey ? new Vault({ root: join(options.dataDir, 'blobs'), store, masterKey: options.masterKey }) : undefined;
  const events = new PreservationLog(store, log, `center ${options.centerId} (recovery)`);
  try {
    if (options.masterKey) {
      const recorded = getCenterMeta(store, 'vault-master-key-id');
      if (recorded !== undefined && recorded !== options.masterKey.id) {
        throw new VaultError('MASTER_KEY_MISMATCH', `the master key given is ${options.masterKey.id}, but ${options.dataDir} was restored under ${recorded}`);
      }
      store.transaction(() => {
        setCenterMeta(store, 'vault-master-key-id', options.masterKey!.id);
        recordUnheldBlobs(store, options.masterKey!.id, new Date().toISOString());
      });
    }
    const files = store
      .prepare(
        `SELECT r.sha256, r.sm3, r.size FROM registration r LEFT JOIN vault_blob b ON b.sha256 = r.sha256
         WHERE r.has_file = 1 AND (b.sha256 IS NULL OR b.status != 'ok') ORDER BY r.sha256`,
      )
      .all()
      // One per content (several registrants may have registered the same file).
      .filter((r, i, all) => i === 0 || !(r as { sha256: Buffer }).sha256.equals((all[i - 1] as { sha256: Buffer }).sha256)) as { sha256: Buffer; sm3: Buffer | null; size: number | null }[];
    if (!vault) {
      report.blobs.skipped = files.length;
      if (files.length > 0) report.warnings.push(`${files.length} originals not restored: give the master key (archive-seal keys export-master made the offline copy) and run the recovery again`);
      if (files.length === 0) deleteCenterMeta(store, ORIGINALS_PENDING);
      return;
    }
    for (const file of files) {
      const sha256 = file.sha256.toString('hex');
      try {
        if (!file.sm3 || file.size === null) throw new Error('the registration has no SM3 or size to check the original against');
        const stream = await options.peer.getBlob(sha256);
        const { cipherSha256 } = await vault.installCiphertext(sha256, stream, { sm3: file.sm3.toString('hex'), size: file.size });
        if (options.configuredPeerId) {
          const at = new Date().toISOString();
          ensureReplica(store, { kind: 'blob', object: sha256, peer: options.configuredPeerId, now: at });
          markReplicaVerified(store, { kind: 'blob', object: sha256, peer: options.configuredPeerId }, { revision: cipherSha256, confirmedHash: cipherSha256, at });
        }
        events.event({ type: 'recovery', objectKind: 'blob', objectId: sha256, copy: 'local', agent: `peer ${peerName}`, outcome: 'success', detail: `restored; decrypted and checked against the registered SHA-256, SM3 and size (${file.size} bytes)` });
        events.clear('audit-failed', `blob ${sha256} @ local`);
        report.blobs.restored++;
      } catch (err) {
        const problem = (err as Error).message;
        events.event({ type: 'recovery', objectKind: 'blob', objectId: sha256, copy: 'local', agent: `peer ${peerName}`, outcome: 'failure', detail: problem });
        events.raise('audit-failed', `blob ${sha256} @ local`, `the original ${sha256} could not be restored from peer ${peerName} (${problem}); it stays missing until a peer's copy is fetched, by the audit or by running the recovery again`);
        report.blobs.failed.push({ sha256, problem });
      }
    }
    log(`originals restored: ${report.blobs.restored} of ${files.length}`);
    if (report.blobs.failed.length === 0) deleteCenterMeta(store, ORIGINALS_PENDING);
  } finally {
    await vault?.close();
    store.close();
  }
}

/**
 * Restores registrations of periods after the last sealed one from the peer's journal segments
 * (each signature checked, leaves recomputed): the last such period as open, any before it as
 * closed (`sealing`), which the center seals when it starts. Segments may overlap (a center
 * restarted or recovered sends its open period again under another range): a registration held
 * twice alike is restored once; one held twice differently, a period missing between two, or a
 * gap in a period's leaves fails the recovery, naming what is missing. Returns how many were restored.
 */
async function restoreJournals(store: Store, options: RecoveryOptions, lastSealedId: number, log: (line: string) => void): Promise<number> {
  const listed = (await options.peer.listJournals())
    .map((j) => ({ ...j, range: parseJournalKey(j.key) }))
    .filter((j): j is typeof j & { range: NonNullable<typeof j.range> } => j.range !== undefined && j.range.periodId > lastSealedId)
    .sort((x, y) => x.range.firstId - y.range.firstId);
  interface Unsealed {
    openedAt: string;
    accounts: Map<number, BundleAccount>;
    registrations: Map<number, { registration: BundleRegistration; text: string; segment: string }>;
  }
  const byPeriod = new Map<number, Unsealed>();
  const trustRoots = options.pki.roots.map((r) => r.pem);
  for (const j of listed) {
    const segment = await verifyJournal(unframeBundle(await options.peer.getJournal(j.key)), j.key, trustRoots);
    if (segment.center !== options.centerId) throw new VaultError('BUNDLE_INVALID', `journal ${j.key} is center ${segment.center}'s`);
    const entry: Unsealed = byPeriod.get(segment.period.id) ?? { openedAt: segment.period.openedAt, accounts: new Map(), registrations: new Map() };
    for (const a of segment.accounts) entry.accounts.set(a.id, a);
    for (const r of segment.registrations) {
      const text = canonicalize(r);
      const held = entry.registrations.get(r.id);
      if (held && held.text !== text) {
        throw new VaultError('RECOVERY_FAILED', `journal segments ${held.segment} and ${j.key} hold different registrations ${r.id}: the peer's copies disagree; nothing was restored`);
      }
      entry.registrations.set(r.id, { registration: r, text, segment: j.key });
    }
    byPeriod.set(segment.period.id, entry);
  }
  const periods = [...byPeriod.keys()].sort((x, y) => x - y);
  const absent = periods.length === 0 ? [] : range(lastSealedId + 1, periods[periods.length - 1]!).filter((id) => !byPeriod.has(id));
  if (absent.length > 0) {
    throw new VaultError(
      'RECOVERY_FAILED',
      `period${absent.length > 1 ? 's' : ''} ${absent.join(', ')} ${absent.length > 1 ? 'are' : 'is'} missing: the peer holds neither a bundle nor journal segments of ${absent.length > 1 ? 'them' : 'it'}, ` +
        `but it holds journal segments of period ${periods[periods.length - 1]}; nothing was restored`,
    );
  }
  let restored = 0;
  periods.forEach((periodId, i) => {
    const entry = byPeriod.get(periodId)!;
    const registrations = [...entry.registrations.values()].map((e) => e.registration).sort((x, y) => x.leafIndex - y.leafIndex);
    const missing: number[] = [];
    registrations.forEach((r, n) => {
      if (n > 0 && r.leafIndex === registrations[n - 1]!.leafIndex) {
        throw new VaultError('RECOVERY_FAILED', `period ${periodId}: registrations ${registrations[n - 1]!.id} and ${r.id} both claim leaf ${r.leafIndex}; nothing was restored`);
      }
      for (let leaf = (n === 0 ? -1 : registrations[n - 1]!.leafIndex) + 1; leaf < r.leafIndex && missing.length < 50; leaf++) missing.push(leaf);
    });
    if (missing.length > 0) {
      throw new VaultError(
        'RECOVERY_FAILED',
        `period ${periodId}: the peer's journal segments lack leaves ${describeRanges(missing)} of ${registrations[registrations.length - 1]!.leafIndex + 1}, ` +
          `so the registrations after them cannot be restored in place; nothing was restored (fetch the missing segments, or recover from another peer)`,
      );
    }
    const next = periods[i + 1];
    const closedAt = next === undefined ? null : byPeriod.get(next)!.openedAt;
    store.transaction(() =>
      insertRestoredRegistrations(store, {
        period: { id: periodId, status: closedAt ? 'sealing' : 'open', opened_at: entry.openedAt, closed_at: closedAt, sealed_at: null, leaf_count: registrations.length, root: null, previous_root: null },
        accounts: [...entry.accounts.values()].map((a) => accountRow(a, options.masterKey)),
        registrations: registrations.map((r) => registrationRow(r, periodId)),
      }),
    );
    restored += registrations.length;
  });
  if (restored > 0) log(`restored ${restored} registrations of period${periods.length > 1 ? 's' : ''} ${periods.join(', ')} (not yet sealed) from journal segments`);
  return restored;
}

/**
 * Registration ids are given in order without gaps (the next is one more than the largest), so
 * an id below the largest restored that is not there is a registration the peer's copies lack:
 * the recovery fails naming them rather than restore a registry with holes in it.
 */
function refuseMissingRegistrations(store: Store): void {
  const { count, last } = store.prepare('SELECT count(*) AS count, coalesce(max(id), 0) AS last FROM registration').get() as { count: number; last: number };
  if (count === last) return;
  const ids = new Set(store.prepare('SELECT id FROM registration').pluck().all() as number[]);
  const missing = range(1, last).filter((id) => !ids.has(id));
  throw new VaultError(
    'RECOVERY_FAILED',
    `registrations ${describeRanges(missing.slice(0, 200))}${missing.length > 200 ? ` and ${missing.length - 200} more` : ''} (${missing.length} of ${last}) are in none of the peer's bundles or journal segments; nothing was restored`,
  );
}

/**
 * Restores every issued certificate from the peer's certificate segments, with its public link id,
 * its document byte for byte and its row order; a certificate held twice differently, or naming a
 * registration the registry does not have, fails the recovery.
 */
async function restoreCertificates(store: Store, options: RecoveryOptions, log: (line: string) => void): Promise<number> {
  const trustRoots = options.pki.roots.map((r) => r.pem);
  const byId = new Map<string, SegmentCertificate & { segment: string }>();
  const bySeq = new Map<number, string>();
  for (const { key } of await options.peer.listDocuments('certificates')) {
    const segment = await verifyCertificateSegment(unframeBundle(await options.peer.getDocument('certificates', key)), key, trustRoots);
    if (segment.center !== options.centerId) throw new VaultError('BUNDLE_INVALID', `certificate segment ${key} is center ${segment.center}'s`);
    for (const c of segment.certificates) {
      const held = byId.get(c.id);
      const same = held && held.seq === c.seq && held.registrationId === c.registrationId && held.issuedAt === c.issuedAt && held.anchorIds === c.anchorIds && held.document === c.document;
      if ((held && !same) || (bySeq.has(c.seq) && bySeq.get(c.seq) !== c.id)) {
        throw new VaultError('RECOVERY_FAILED', `certificate segments ${held?.segment ?? 'of the peer'} and ${key} disagree about certificate ${c.id} (row ${c.seq}); nothing was restored`);
      }
      byId.set(c.id, { ...c, segment: key });
      bySeq.set(c.seq, c.id);
    }
  }
  const certificates = [...byId.values()].sort((x, y) => x.seq - y.seq);
  const known = store.prepare('SELECT 1 FROM registration WHERE id = ?').pluck();
  const orphans = certificates.filter((c) => known.get(c.registrationId) === undefined);
  if (orphans.length > 0) {
    throw new VaultError('RECOVERY_FAILED', `certificates ${orphans.slice(0, 20).map((c) => c.id).join(', ')} name registrations the restored registry lacks (${[...new Set(orphans.map((c) => c.registrationId))].slice(0, 20).join(', ')}); nothing was restored`);
  }
  const insert = store.prepare('INSERT INTO certificate (rowid, id, registration_id, issued_at, anchor_ids, document) VALUES (?, ?, ?, ?, ?, ?)');
  store.transaction(() => {
    for (const c of certificates) insert.run(c.seq, c.id, c.registrationId, c.issuedAt, c.anchorIds, c.document);
    // Segments already at the peer are not cut again.
    if (certificates.length > 0) setCenterMeta(store, 'certificate-watermark', String(certificates[certificates.length - 1]!.seq));
  });
  if (certificates.length > 0) log(`restored ${certificates.length} issued certificates with their public links`);
  return certificates.length;
}

/**
 * Restores the embedded chain's state into `chainDir` (beside the staged registry) from the
 * peer's signed copy, opened with the master key; null when the peer holds none (the center
 * anchors on an outside chain, or never anchored). Without the master key it cannot be opened:
 * a warning says the anchors of the embedded chain will not verify.
 */
async function restoreChain(chainDir: string, options: RecoveryOptions, warnings: string[], log: (line: string) => void): Promise<{ bestBlock: number } | null> {
  const held = (await options.peer.listDocuments('chain')).filter((c) => c.key === LOCAL_CHAIN_NAME);
  if (held.length === 0) return null;
  const trustRoots = options.pki.roots.map((r) => r.pem);
  const document = await verifyChainStateDocument(unframeBundle(await options.peer.getDocument('chain', LOCAL_CHAIN_NAME)), LOCAL_CHAIN_NAME, trustRoots);
  if (document.center !== options.centerId) throw new VaultError('BUNDLE_INVALID', `the chain state held is center ${document.center}'s`);
  if (!options.masterKey) {
    warnings.push('the embedded chain\'s state is sealed under the master key and was not restored: give the master key, or its anchors (and the certificates naming them) will not verify');
    return null;
  }
  await restoreChainState(document, chainDir, options.masterKey.key);
  log(`restored the embedded chain's state (block ${document.bestBlock}): its contract and anchors are the ones certificates name`);
  return { bestBlock: document.bestBlock };
}

function range(first: number, last: number): number[] {
  return Array.from({ length: Math.max(0, last - first + 1) }, (_, i) => first + i);
}

/** `[1, 2, 3, 7, 9, 10]` → `1-3, 7, 9-10`. */
function describeRanges(values: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < values.length; ) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === values[j]! + 1) j++;
    parts.push(i === j ? String(values[i]) : `${values[i]}-${values[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

function accountRow(a: BundleAccount, masterKey: MasterKey | undefined): AccountRow {
  return { id: a.id, name: accountName(a, masterKey?.key), role: a.role, pseudonymous: a.pseudonymous ? 1 : 0, created_at: a.createdAt };
}

function registrationRow(r: BundleRegistration, periodId: number): RegistrationRow {
  const record = canonicalize(r.record);
  const recordDigest = hash('sha256', record, 'buffer');
  const salt = Buffer.from(r.salt, 'hex');
  const sha256 = Buffer.from(r.sha256, 'hex');
  return {
    id: r.id,
    period_id: periodId,
    leaf_index: r.leafIndex,
    registrant_id: r.registrantId,
    sha256,
    sha256_key: sha256Key(sha256),
    sm3: r.sm3 === null ? null : Buffer.from(r.sm3, 'hex'),
    size: r.size,
    has_file: r.hasFile ? 1 : 0,
    record,
    record_digest: recordDigest,
    salt,
    leaf_hash: saltedLeaf(salt, recordDigest),
    registered_at: r.registeredAt,
  };
}

/** The rows of a verified bundle, as the registry stores them. */
function toRows(bundle: PeriodBundle, levels: Buffer[], masterKey: MasterKey | undefined) {
  const { period } = bundle;
  const accounts = bundle.accounts.map((a) => accountRow(a, masterKey));
  const registrations = bundle.registrations.map((r) => registrationRow(r, period.id));
  return {
    period: {
      id: period.id,
      status: 'sealed' as const,
      opened_at: period.openedAt,
      closed_at: period.closedAt,
      sealed_at: period.sealedAt,
      leaf_count: period.leafCount,
      root: period.root === null ? null : Buffer.from(period.root, 'hex'),
      previous_root: period.previousRoot === null ? null : Buffer.from(period.previousRoot, 'hex'),
    },
    accounts,
    registrations,
    levels,
    timestamps: bundle.timestamps.map((t) => ({
      period_id: period.id,
      token: Buffer.from(t.token, 'base64'),
      gen_time: t.genTime,
      tsa: t.tsa,
      serial: t.serial,
      authority: t.authority,
      created_at: t.createdAt,
    })),
    anchors: bundle.anchors.map(
      (a): AnchorRow => ({
        id: a.id,
        period_id: period.id,
        chain: a.chain,
        chain_id: a.chainId,
        contract: a.contract,
        status: a.status as AnchorStatus,
        tx_hash: a.txHash,
        nonce: a.nonce,
        block_number: a.blockNumber,
        block_hash: a.blockHash,
        block_time: a.blockTime,
        confirmations: a.confirmations,
        attempts: a.attempts,
        last_error: a.lastError,
        created_at: a.createdAt,
        updated_at: a.updatedAt,
      }),
    ),
  };
}
