import { createHash, type Hash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PRIVATE_DIRECTORY_MODE, PRIVATE_FILE_MODE, syncPath } from '../durable-files.js';
import { listAnchors } from '../store/anchors-repository.js';
import type { RegistrationRow } from '../store/database.js';
import { findPeriod } from '../store/periods-repository.js';
import { findRegistration } from '../store/registrations-repository.js';
import type { Store } from '../store/store.js';
import type { RegistrationReader } from '../registry/registration-reader.js';
import type { Vault } from './vault.js';
import { VaultError } from './vault-error.js';

/**
 * An offline copy of chosen records as a BagIt bag (RFC 8493, version 1.0):
 *
 *   bagit.txt, bag-info.txt
 *   manifest-sha256.txt, manifest-sha512.txt      every payload file, both algorithms (§2.1.3)
 *   sm3-digests.txt                                NOT a BagIt manifest: a tag file of our own, in
 *                                                  manifest form, with the SM3 (GB/T 32905-2016)
 *                                                  digest of every payload file (bag-info.txt says so)
 *   tagmanifest-sha256.txt                         every tag file above (§2.2.1)
 *   data/registration-<id>/registration.json       the registration: record, digests, salt, leaf,
 *                                                  inclusion proof, its period's root, timestamp and anchors
 *   data/registration-<id>/certificate.json        the authenticity certificate, when the period is anchored
 *   data/registration-<id>/file/<file name>        the deposited original, decrypted and checked
 */
export interface BagExportOptions {
  store: Store;
  vault: Vault;
  reader: RegistrationReader;
  dir: string;
  registrationIds: readonly number[];
  periodIds: readonly number[];
  center: { id: string; name: string };
  /** The registration's certificate, or undefined when none can be issued (not yet anchored). */
  certificateOf?: (registrationId: number) => unknown;
  now?: Date;
}

export interface BagExportResult {
  registrations: number;
  originals: number;
  payloadFiles: number;
  payloadBytes: number;
}

interface PayloadEntry {
  path: string;
  bytes: number;
  sha256: string;
  sha512: string;
  sm3: string;
}

const STAFF = { accountId: 0, name: 'export', role: 'admin' as const, pseudonymous: false };

/**
 * Writes the bag into a new directory beside `dir` and renames it to `dir` only once it is
 * complete, so a failure (an original missing from the vault, say) leaves no half-written bag,
 * and `dir` stays free for the next attempt. `dir` must not exist, or be empty.
 */
export async function exportBag(options: BagExportOptions): Promise<BagExportResult> {
  const { store, dir } = options;
  const rows = selectRegistrations(store, options.registrationIds, options.periodIds);
  if (rows.length === 0) throw new VaultError('INVALID_REQUEST', 'nothing to export: the chosen periods have no registrations');
  if ((await readdir(dir).catch(() => [])).length > 0) throw new VaultError('INVALID_REQUEST', `${dir} is not empty; a bag is written into an empty directory`);
  await mkdir(dirname(dir), { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
  const partial = await mkdtemp(join(dirname(dir), `.${basename(dir)}.partial-`));
  let result: BagExportResult;
  try {
    result = await writeBag(options, rows, partial);
    // An empty directory given: the bag takes its place (rmdir removes only an empty one).
    await rmdir(dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await rename(partial, dir);
  } catch (err) {
    await rm(partial, { recursive: true, force: true });
    throw err;
  }
  await syncPath(dirname(dir));
  return result;
}

async function writeBag(options: BagExportOptions, rows: RegistrationRow[], dir: string): Promise<BagExportResult> {
  const { store } = options;

  const payload: PayloadEntry[] = [];
  let originals = 0;
  for (const row of rows) {
    const base = `data/registration-${row.id}`;
    const view = options.reader.get(STAFF, row.id);
    const period = findPeriod(store, row.period_id);
    const timestamp = store.first(store.db.selectFrom('period_timestamp').selectAll().where('period_id', '=', row.period_id));
    const document = {
      registration: view,
      period: period && {
        id: period.id,
        status: period.status,
        sealedAt: period.sealed_at,
        leafCount: period.leaf_count,
        root: period.root?.toString('hex') ?? null,
        previousRoot: period.previous_root?.toString('hex') ?? null,
      },
      timestamp: timestamp ? { token: timestamp.token.toString('base64'), genTime: timestamp.gen_time, tsa: timestamp.tsa, serial: timestamp.serial } : null,
      anchors: listAnchors(store, row.period_id)
        .filter((a) => a.status === 'confirmed')
        .map((a) => ({ chain: a.chain, chainId: a.chain_id, contract: a.contract, txHash: a.tx_hash, blockNumber: a.block_number, blockHash: a.block_hash, blockTime: a.block_time })),
    };
    payload.push(await writeText(dir, `${base}/registration.json`, JSON.stringify(document, null, 2) + '\n'));
    const certificate = options.certificateOf?.(row.id);
    if (certificate !== undefined) payload.push(await writeText(dir, `${base}/certificate.json`, JSON.stringify(certificate, null, 2) + '\n'));
    if (row.has_file === 1) {
      const sha256 = row.sha256.toString('hex');
      const reader = await options.vault.open(sha256, {
        ...(row.sm3 && { sm3: row.sm3.toString('hex') }),
        ...(row.size !== null && { size: row.size }),
      });
      const path = `${base}/file/${safeFileName(view.record.fileName, row.id)}`;
      // The vault's stream ends only once the content matched its SHA-256 and SM3: those two are
      // known, so only SHA-512 is computed here (SM3 is the slow one).
      const sha512 = createHash('sha512');
      let bytes = 0;
      const counting = new Transform({
        transform(chunk: Buffer, _enc, done) {
          bytes += chunk.length;
          sha512.update(chunk);
          done(null, chunk);
        },
      });
      await mkdir(dirname(join(dir, path)), { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
      await pipeline(reader.stream, counting, createWriteStream(join(dir, path), { mode: PRIVATE_FILE_MODE, highWaterMark: 1 << 20 }));
      const sm3 = (row.sm3 ?? options.vault.rowOf(sha256)!.sm3).toString('hex');
      payload.push({ path, bytes, sha256, sha512: sha512.digest('hex'), sm3 });
      originals++;
    }
  }
  payload.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

  const bytes = payload.reduce((n, p) => n + p.bytes, 0);
  const manifest = (pick: (p: PayloadEntry) => string) => payload.map((p) => `${pick(p)}  ${encodePath(p.path)}\n`).join('');
  const tags: [string, string][] = [
    ['bagit.txt', 'BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n'],
    [
      'bag-info.txt',
      [
        `Source-Organization: ${options.center.name}`,
        `Bagging-Date: ${(options.now ?? new Date()).toISOString().slice(0, 10)}`,
        `Payload-Oxum: ${bytes}.${payload.length}`,
        `Bag-Size: ${humanSize(bytes)}`,
        `External-Description: ${rows.length} registration(s) of electronic records exported from the registration and backup center ${options.center.id}, with their originals where deposited, inclusion proofs and certificates`,
        `External-Identifier: ${options.center.id}:registrations:${rows.map((r) => r.id).join(',')}`,
        'Bag-Software-Agent: archive-seal',
        `Archive-Seal-Center: ${options.center.id}`,
        'Archive-Seal-SM3-Digests: sm3-digests.txt is not a BagIt manifest (RFC 8493 defines none for SM3); it lists the SM3 (GB/T 32905-2016) digest of every payload file in manifest form',
      ].join('\n') + '\n',
    ],
    ['manifest-sha256.txt', manifest((p) => p.sha256)],
    ['manifest-sha512.txt', manifest((p) => p.sha512)],
    ['sm3-digests.txt', manifest((p) => p.sm3)],
  ];
  for (const [name, text] of tags) await writeFile(join(dir, name), text, { encoding: 'utf8', mode: PRIVATE_FILE_MODE });
  const tagManifest = tags.map(([name, text]) => `${createHash('sha256').update(text, 'utf8').digest('hex')}  ${name}\n`).join('');
  await writeFile(join(dir, 'tagmanifest-sha256.txt'), tagManifest, { encoding: 'utf8', mode: PRIVATE_FILE_MODE });
  return { registrations: rows.length, originals, payloadFiles: payload.length, payloadBytes: bytes };
}

function selectRegistrations(store: Store, ids: readonly number[], periodIds: readonly number[]): RegistrationRow[] {
  const byId = new Map<number, RegistrationRow>();
  for (const id of ids) {
    const row = findRegistration(store, id);
    if (!row) throw new VaultError('INVALID_REQUEST', `there is no registration ${id}`);
    byId.set(id, row);
  }
  for (const periodId of periodIds) {
    if (!findPeriod(store, periodId)) throw new VaultError('INVALID_REQUEST', `there is no period ${periodId}`);
    for (const row of store.prepare('SELECT * FROM registration WHERE period_id = ? ORDER BY id').all(periodId) as RegistrationRow[]) byId.set(row.id, row);
  }
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

/** A file name safe in any file system: no separators, control characters or leading dots. */
export function safeFileName(name: string | undefined, id: number): string {
  const cleaned = (name ?? '')
    .replace(/[\\/:*?"<>|\x00-\x1f\x7f]/g, '_')
    .replace(/^\.+/, '_')
    .trim()
    .slice(0, 200);
  return cleaned === '' ? `registration-${id}.bin` : cleaned;
}

/** RFC 8493 §2.1.3: in a manifest, CR, LF and % in a path are percent-encoded. */
function encodePath(path: string): string {
  return path.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function digesters(): { sha256: Hash; sha512: Hash; sm3: Hash; bytes: number } {
  return { sha256: createHash('sha256'), sha512: createHash('sha512'), sm3: createHash('sm3'), bytes: 0 };
}

function finish(h: ReturnType<typeof digesters>) {
  return { bytes: h.bytes, sha256: h.sha256.digest('hex'), sha512: h.sha512.digest('hex'), sm3: h.sm3.digest('hex') };
}

async function writeText(dir: string, path: string, text: string): Promise<PayloadEntry> {
  await mkdir(dirname(join(dir, path)), { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
  await writeFile(join(dir, path), text, { encoding: 'utf8', mode: PRIVATE_FILE_MODE });
  const h = digesters();
  const bytes = Buffer.from(text, 'utf8');
  h.bytes = bytes.length;
  h.sha256.update(bytes);
  h.sha512.update(bytes);
  h.sm3.update(bytes);
  return { path, ...finish(h) };
}

function humanSize(bytes: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let n = bytes;
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return i === 0 ? `${bytes} bytes` : `${n.toFixed(1)} ${units[i]}`;
}
