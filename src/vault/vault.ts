import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { getCenterMeta, setCenterMeta } from '../store/accounts-repository.js';
import { refreshCopyCount } from '../store/copy-counts-repository.js';
import { deleteReplicasOf } from '../store/replicas-repository.js';
import {
  countVaultBlobs,
  findVaultBlob,
  insertVaultBlob,
  replaceVaultBlob,
  setBlobCipherSha256,
  setBlobStatus,
} from '../store/blobs-repository.js';
import type { VaultBlobRow } from '../store/database.js';
import type { Store } from '../store/store.js';
import {
  BlobOpener,
  BlobSealer,
  DEFAULT_SEGMENT_BYTES,
  HEADER_BYTES,
  layoutOf,
  parseHeader,
  TAG_BYTES,
  unwrapDataKey,
} from './blob-cipher.js';
import { BlobTooLargeError, type BlobReader, type BlobStore, type ExpectedDigests, type IngestedBlob, type IngestOptions } from './blob-store.js';
import { DigestThread, type DigestJob } from './digest-thread.js';
import { SequentialFile } from './sequential-file.js';
import { generateMasterKey, readMasterKeyFile, writeMasterKeyFile, type MasterKey } from './master-key.js';
import { VaultError } from './vault-error.js';
import { syncPath } from '../durable-files.js';

const MASTER_KEY_META = 'vault-master-key-id';
const SHA256_HEX = /^[0-9a-f]{64}$/;

export interface VaultOptions {
  /** Directory of the encrypted files (`blobs/` under the data directory). */
  root: string;
  store: Store;
  masterKey: MasterKey;
  segmentBytes?: number;
  now?: () => Date;
  /** Called once a new blob is in place (not for content already held). */
  onStored?: (blob: IngestedBlob & { cipherSize: number }) => void;
}

/** The outcome of checking a local copy end to end. */
export interface LocalCheck {
  ok: boolean;
  /** SHA-256 of the encrypted file as read (when it could be read). */
  cipherSha256?: string;
  problem?: string;
}

/**
 * The encrypted, content-addressed vault (see blob-cipher.ts for the file format). Files live at
 * `root/sha256/ab/cd/<sha256>`, written under `root/tmp` first, fsynced, then renamed into
 * place, so a crash never leaves a partial file under a digest's name. Metadata (digests, sizes,
 * the wrapped key) is in the `vault_blob` table; the master key never is.
 *
 * Ingest runs SHA-256 and AES-GCM on the calling thread and SM3 on a worker thread (beside it,
 * not after it); files of one segment or less are hashed inline.
 */
export class Vault implements BlobStore {
  readonly root: string;
  readonly masterKey: MasterKey;
  private readonly store: Store;
  private readonly segmentBytes: number;
  private readonly now: () => Date;
  private readonly digests = new DigestThread();
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly onStored: (blob: IngestedBlob & { cipherSize: number }) => void;

  constructor(options: VaultOptions) {
    this.onStored = options.onStored ?? (() => {});
    this.root = options.root;
    this.store = options.store;
    this.masterKey = options.masterKey;
    this.segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    this.now = options.now ?? (() => new Date());
  }

  /**
   * The master key for `store`'s vault from `file`, made on first start. Refuses to make a new one
   * when the database says blobs were sealed under a key that is now missing, or when the file
   * holds another key than the one the database recorded: either would leave the originals
   * unreadable.
   */
  static loadMasterKey(store: Store, file: string): MasterKey {
    const recorded = getCenterMeta(store, MASTER_KEY_META);
    const key = readMasterKeyFile(file);
    if (!key) {
      if (recorded !== undefined || countVaultBlobs(store) > 0) {
        throw new VaultError(
          'MASTER_KEY_MISSING',
          `the vault's master key file ${file} is missing (the vault was sealed under key ${recorded ?? 'unknown'}); ` +
            'restore it from its offline copy with `archive-seal keys import-master FILE`',
        );
      }
      const fresh = generateMasterKey();
      writeMasterKeyFile(file, fresh);
      setCenterMeta(store, MASTER_KEY_META, fresh.id);
      return fresh;
    }
    if (recorded !== undefined && recorded !== key.id) {
      throw new VaultError('MASTER_KEY_MISMATCH', `${file} holds master key ${key.id}, but this vault was sealed under ${recorded}`);
    }
    if (recorded === undefined) setCenterMeta(store, MASTER_KEY_META, key.id);
    return key;
  }

  /** Where the encrypted file of the blob with this SHA-256 lives. */
  pathOf(sha256: string): string {
    return join(this.root, 'sha256', sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  /** The blob's row, if the vault holds it. */
  rowOf(sha256: string): VaultBlobRow | undefined {
    return SHA256_HEX.test(sha256) ? findVaultBlob(this.store, Buffer.from(sha256, 'hex')) : undefined;
  }

  async ingest(source: Readable, options: IngestOptions): Promise<IngestedBlob> {
    const tmp = await this.tempFile();
    const file = await SequentialFile.create(tmp, { reserve: HEADER_BYTES, mode: 0o600 }).catch(async (err: unknown) => {
      await rm(tmp, { force: true });
      throw err;
    });
    const sealer = new BlobSealer(this.segmentBytes);
    const sha256 = createHash('sha256');
    let sm3Job: DigestJob | undefined;
    let sm3Inline: Hash | undefined;
    let size = 0;
    let segment = this.digests.takeBuffer(this.segmentBytes);
    let fill = 0;
    let held: Buffer | undefined; // a full segment, sealed once we know whether more follows

    const seal = async (plain: Buffer, final: boolean) => {
      sha256.update(plain);
      await file.append(...sealer.seal(plain, final));
      if (final && !sm3Job) {
        sm3Inline = createHash('sm3').update(plain);
      } else {
        sm3Job ??= this.digests.begin('sm3');
        await sm3Job.update(plain); // transferred: `plain` is not touched again
      }
    };

    try {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > options.maxBytes) throw new BlobTooLargeError(options.maxBytes);
        let offset = 0;
        while (offset < chunk.length) {
          if (held) {
            await seal(held, false);
            held = undefined;
          }
          const n = Math.min(chunk.length - offset, this.segmentBytes - fill);
          chunk.copy(segment, fill, offset, offset + n);
          fill += n;
          offset += n;
          if (fill === this.segmentBytes) {
            held = segment;
            segment = this.digests.takeBuffer(this.segmentBytes);
            fill = 0;
          }
        }
      }
      await seal(held ?? segment.subarray(0, fill), true);
      const sha256Bytes = sha256.digest();
      const header = sealer.header(this.masterKey, sha256Bytes);
      // The file's sync and SM3's last chunks on its thread, side by side.
      const [position, sm3] = await Promise.all([file.finish(header), sm3Job ? sm3Job.digest() : sm3Inline!.digest('hex')]);
      const blob = { sha256: sha256Bytes.toString('hex'), sm3, size };
      if ((await options.accept?.(blob)) === 'discard') {
        await rm(tmp, { force: true });
        return blob;
      }
      await this.exclusive(blob.sha256, async () => {
        const existing = this.rowOf(blob.sha256);
        if (existing && existing.status === 'ok' && (await exists(this.pathOf(blob.sha256)))) {
          await rm(tmp, { force: true }); // the same content is already held, under its own key
          return;
        }
        await this.moveIntoPlace(tmp, blob.sha256);
        const row = {
          sha256: sha256Bytes,
          sm3: Buffer.from(sm3, 'hex'),
          size,
          cipher_size: position,
          cipher_sha256: null,
          wrapped_key: header.subarray(28, 88),
          master_key_id: this.masterKey.id,
          status: 'ok' as const,
          created_at: this.now().toISOString(),
          checked_at: null,
        };
        if (existing) replaceVaultBlob(this.store, row, row.created_at);
        else insertVaultBlob(this.store, row);
        this.onStored({ ...blob, cipherSize: position });
      });
      return blob;
    } catch (err) {
      sm3Job?.abort();
      await file.abort();
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async has(sha256: string): Promise<boolean> {
    const row = this.rowOf(sha256);
    return row !== undefined && row.status !== 'missing' && (await exists(this.pathOf(sha256)));
  }

  async open(sha256: string, expected: ExpectedDigests = {}): Promise<BlobReader> {
    const row = this.rowOf(sha256);
    if (!row) throw new VaultError('BLOB_NOT_FOUND', `the vault holds no blob ${sha256}`);
    let handle: FileHandle;
    try {
      handle = await open(this.pathOf(sha256), 'r');
    } catch (err) {
      throw new VaultError('BLOB_NOT_FOUND', `the file of blob ${sha256} is missing from the vault`, { cause: err });
    }
    try {
      const reader = await this.readerOf(handle, row, expected, {});
      const stream = Readable.from(reader.segments(), { objectMode: false, highWaterMark: 2 * this.segmentBytes });
      stream.once('close', () => void handle.close().catch(() => {}));
      return { size: reader.size, stream };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async delete(sha256: string): Promise<void> {
    if (!SHA256_HEX.test(sha256)) return;
    await this.exclusive(sha256, async () => {
      await rm(this.pathOf(sha256), { force: true });
      this.store.transaction(() => {
        this.store.run(this.store.db.deleteFrom('vault_blob').where('sha256', '=', Buffer.from(sha256, 'hex')));
        refreshCopyCount(this.store, 'blob', sha256);
      });
    });
  }

  /**
   * Checks the local copy end to end: every segment authenticates, the plaintext matches the
   * recorded SHA-256, SM3 and size, and the encrypted file matches its recorded SHA-256 (which
   * is recorded here the first time). Updates the blob's status; never throws for a bad copy.
   */
  async checkLocal(sha256: string): Promise<LocalCheck> {
    const row = this.rowOf(sha256);
    if (!row) return { ok: false, problem: 'the vault has no record of this blob' };
    const at = this.now().toISOString();
    let handle: FileHandle;
    try {
      handle = await open(this.pathOf(sha256), 'r');
    } catch {
      setBlobStatus(this.store, row.sha256, 'missing', at);
      return { ok: false, problem: 'the encrypted file is missing' };
    }
    const cipherHash = createHash('sha256');
    try {
      const reader = await this.readerOf(handle, row, {}, { cipherHash });
      for await (const plain of reader.segments()) void plain;
    } catch (err) {
      setBlobStatus(this.store, row.sha256, 'damaged', at);
      return { ok: false, problem: (err as Error).message };
    } finally {
      await handle.close().catch(() => {});
    }
    const cipherSha256 = cipherHash.digest();
    if (row.cipher_sha256 && !row.cipher_sha256.equals(cipherSha256)) {
      setBlobStatus(this.store, row.sha256, 'damaged', at);
      return { ok: false, cipherSha256: cipherSha256.toString('hex'), problem: 'the encrypted file differs from the one recorded (it decrypts, but is not the copy peers hold)' };
    }
    this.store.transaction(() => {
      if (!row.cipher_sha256) setBlobCipherSha256(this.store, row.sha256, cipherSha256);
      setBlobStatus(this.store, row.sha256, 'ok', at);
    });
    return { ok: true, cipherSha256: cipherSha256.toString('hex') };
  }

  /** SHA-256 (hex) of the blob's encrypted file, checking the copy the first time it is needed. */
  async cipherSha256(sha256: string): Promise<string> {
    const row = this.rowOf(sha256);
    if (!row) throw new VaultError('BLOB_NOT_FOUND', `the vault holds no blob ${sha256}`);
    if (row.cipher_sha256) return row.cipher_sha256.toString('hex');
    const check = await this.checkLocal(sha256);
    if (!check.ok || !check.cipherSha256) throw new VaultError('BLOB_CORRUPT', `blob ${sha256}: ${check.problem}`);
    return check.cipherSha256;
  }

  /** The encrypted file as a stream, from `start` (what peers are sent). */
  readCiphertext(sha256: string, start = 0): Readable {
    return createReadStream(this.pathOf(sha256), { start, highWaterMark: 1 << 20 });
  }

  /**
   * Puts an encrypted file received from elsewhere (a peer's copy, in repair or recovery) in
   * place of the blob `sha256`, after checking it end to end against `expected` (and, when
   * given, its own SHA-256 against `cipherSha256`). Nothing is replaced when it fails.
   */
  async installCiphertext(
    sha256: string,
    source: Readable,
    expected: { sm3: string; size: number; cipherSha256?: string },
  ): Promise<{ cipherSha256: string }> {
    if (!SHA256_HEX.test(sha256)) throw new VaultError('BLOB_CORRUPT', `${sha256} is not a SHA-256`);
    const tmp = await this.tempFile();
    const cipherHash = createHash('sha256');
    try {
      const out = await SequentialFile.create(tmp, { mode: 0o600 });
      try {
        for await (const chunk of source as AsyncIterable<Buffer>) {
          cipherHash.update(chunk);
          await out.append(chunk);
        }
        await out.finish();
      } catch (err) {
        await out.abort();
        throw err;
      }
      const cipherSha256 = cipherHash.digest('hex');
      if (expected.cipherSha256 !== undefined && expected.cipherSha256 !== cipherSha256) {
        throw new VaultError('DIGEST_MISMATCH', `the copy's SHA-256 is ${cipherSha256}, not the ${expected.cipherSha256} expected`);
      }
      const handle = await open(tmp, 'r');
      let wrappedKey: Buffer;
      let cipherSize: number;
      try {
        const probe = {
          sha256: Buffer.from(sha256, 'hex'),
          sm3: Buffer.from(expected.sm3, 'hex'),
          size: expected.size,
        };
        const reader = await this.readerOf(handle, probe, {}, {});
        for await (const plain of reader.segments()) void plain;
        wrappedKey = reader.wrappedKey;
        cipherSize = reader.cipherSize;
      } finally {
        await handle.close();
      }
      await this.exclusive(sha256, async () => {
        await this.moveIntoPlace(tmp, sha256);
        const now = this.now().toISOString();
        replaceVaultBlob(
          this.store,
          {
            sha256: Buffer.from(sha256, 'hex'),
            sm3: Buffer.from(expected.sm3, 'hex'),
            size: expected.size,
            cipher_size: cipherSize,
            cipher_sha256: Buffer.from(cipherSha256, 'hex'),
            wrapped_key: wrappedKey,
            master_key_id: this.masterKey.id,
            status: 'ok',
            created_at: now,
            checked_at: now,
          },
          now,
        );
      });
      return { cipherSha256 };
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /** Stops the hashing thread. */
  async close(): Promise<void> {
    await this.digests.close();
  }

  /**
   * Opens a blob file for reading: header, data key, layout; `segments()` yields plaintext
   * segments, each authenticated, the last only after the digests matched.
   */
  private async readerOf(
    handle: FileHandle,
    row: Pick<VaultBlobRow, 'sha256' | 'sm3' | 'size'>,
    expected: ExpectedDigests,
    options: { cipherHash?: Hash },
  ) {
    const sha256Hex = row.sha256.toString('hex');
    const { size: cipherSize } = await handle.stat();
    const headerBytes = Buffer.alloc(HEADER_BYTES);
    const { bytesRead } = await handle.read(headerBytes, 0, HEADER_BYTES, 0);
    if (bytesRead < HEADER_BYTES) throw new VaultError('BLOB_CORRUPT', `blob ${sha256Hex}: the file is shorter than its header`);
    const header = parseHeader(headerBytes);
    const layout = layoutOf(cipherSize, header.segmentBytes);
    if (layout.plainBytes !== row.size) {
      throw new VaultError('BLOB_CORRUPT', `blob ${sha256Hex}: the file holds ${layout.plainBytes} bytes, ${row.size} were stored`);
    }
    if (expected.size !== undefined && expected.size !== row.size) {
      throw new VaultError('DIGEST_MISMATCH', `blob ${sha256Hex} has ${row.size} bytes, the registration says ${expected.size}`);
    }
    const sm3Expected = row.sm3.toString('hex');
    if (expected.sm3 !== undefined && expected.sm3 !== sm3Expected) {
      throw new VaultError('DIGEST_MISMATCH', `blob ${sha256Hex} has SM3 ${sm3Expected}, the registration says ${expected.sm3}`);
    }
    const opener = new BlobOpener(unwrapDataKey(header, this.masterKey, row.sha256), header);
    options.cipherHash?.update(headerBytes);
    const digests = this.digests;
    const sealedBytes = header.segmentBytes + TAG_BYTES;
    const readSealed = async (index: number): Promise<Buffer> => {
      const start = HEADER_BYTES + index * sealedBytes;
      const length = Math.min(sealedBytes, cipherSize - start);
      const buf = Buffer.allocUnsafe(length);
      let got = 0;
      while (got < length) {
        const { bytesRead: n } = await handle.read(buf, got, length - got, start + got);
        if (n === 0) throw new VaultError('BLOB_CORRUPT', `blob ${sha256Hex}: the file ended early`);
        got += n;
      }
      return buf;
    };
    return {
      size: layout.plainBytes,
      cipherSize,
      wrappedKey: headerBytes.subarray(28, 88),
      async *segments(): AsyncGenerator<Buffer> {
        const sha256 = createHash('sha256');
        const sm3Job = layout.segments > 1 ? digests.begin('sm3') : undefined;
        const sm3Inline = sm3Job ? undefined : createHash('sm3');
        try {
          let next: Promise<Buffer> | undefined = readSealed(0);
          for (let i = 0; i < layout.segments; i++) {
            const sealed = await next!;
            next = i + 1 < layout.segments ? readSealed(i + 1) : undefined;
            next?.catch(() => {}); // awaited next turn; a failure now must not go unhandled
            options.cipherHash?.update(sealed);
            const final = i === layout.segments - 1;
            const plain = opener.open(sealed, i, final);
            sha256.update(plain);
            if (sm3Job) await sm3Job.update(plain, { transfer: false });
            else sm3Inline!.update(plain);
            if (final) {
              const gotSha256 = sha256.digest('hex');
              const gotSm3 = sm3Job ? await sm3Job.digest() : sm3Inline!.digest('hex');
              if (gotSha256 !== sha256Hex || gotSm3 !== sm3Expected) {
                throw new VaultError(
                  'DIGEST_MISMATCH',
                  `blob ${sha256Hex} decrypted to content with SHA-256 ${gotSha256} and SM3 ${gotSm3}, not the registered digests`,
                );
              }
            }
            yield plain;
          }
        } finally {
          sm3Job?.abort(); // no-op once digested; frees the thread's state after a failure
        }
      },
    };
  }

  /**
   * Removes what writes cut short (a crash, a kill) left in the temporary directory; call it at
   * start, before any write. Returns how many files it removed.
   */
  async removeTemporaryFiles(): Promise<number> {
    const dir = join(this.root, 'tmp');
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
    await Promise.all(names.map((name) => rm(join(dir, name), { force: true, recursive: true })));
    return names.length;
  }

  /**
   * Removes the blobs no registration with a file refers to: what a crash (kill -9) between a
   * blob's move into place and its registration's commit left behind. Their file, their row and
   * their replication outbox rows go; a blob any registration with `has_file = 1` names stays.
   * Call it at start only, before uploads are taken: an upload in flight holds such a blob for a
   * moment, by design. Returns the SHA-256 (hex) of each blob removed, with the peers that had
   * confirmed a copy of it.
   */
  async removeUnregisteredBlobs(): Promise<{ sha256: string; size: number; peers: string[] }[]> {
    // One probe of the partial index registration_file_sha256 per blob: the look-up never reads
    // the (many more) hash-only registrations.
    const orphans = this.store
      .prepare('SELECT sha256, size FROM vault_blob b WHERE NOT EXISTS (SELECT 1 FROM registration r WHERE r.has_file = 1 AND r.sha256 = b.sha256)')
      .all() as { sha256: Buffer; size: number }[];
    const removed: { sha256: string; size: number; peers: string[] }[] = [];
    for (const orphan of orphans) {
      const sha256 = orphan.sha256.toString('hex');
      await this.exclusive(sha256, async () => {
        const peers = this.store
          .prepare("SELECT peer FROM replica WHERE kind = 'blob' AND object = ? AND status = 'verified' ORDER BY peer")
          .pluck()
          .all(sha256) as string[];
        // The row first: a crash between the two leaves a file without a row, which a later
        // upload of the same content simply replaces.
        this.store.transaction(() => {
          deleteReplicasOf(this.store, 'blob', sha256);
          this.store.prepare('DELETE FROM vault_blob WHERE sha256 = ?').run(orphan.sha256);
          refreshCopyCount(this.store, 'blob', sha256);
        });
        await rm(this.pathOf(sha256), { force: true });
        removed.push({ sha256, size: orphan.size, peers });
      });
    }
    return removed;
  }

  /**
   * Removes the files under `sha256/` that have no row: what a kill -9 between a blob's rename
   * into place and its row's insert (or between a removal's row delete and its unlink) left
   * behind. Nothing refers to such a file, and nothing can come to: the rename and the insert
   * run under the blob's lock, which is held here while the row is looked up again, so a file
   * an upload in flight is moving into place is never taken. Safe at any time (start-up and
   * audits call it). Returns the SHA-256 (hex) and size of each file removed.
   */
  async removeFilesWithoutRow(): Promise<{ sha256: string; size: number }[]> {
    const removed: { sha256: string; size: number }[] = [];
    const top = join(this.root, 'sha256');
    for (const a of await namesIn(top)) {
      for (const b of await namesIn(join(top, a))) {
        const dir = join(top, a, b);
        for (const name of await namesIn(dir)) {
          if (!SHA256_HEX.test(name) || name.slice(0, 2) !== a || name.slice(2, 4) !== b) continue;
          if (this.rowOf(name)) continue;
          await this.exclusive(name, async () => {
            if (this.rowOf(name)) return;
            const path = join(dir, name);
            let size: number;
            try {
              size = (await stat(path)).size;
            } catch {
              return;
            }
            await rm(path, { force: true });
            removed.push({ sha256: name, size });
          });
        }
        if (removed.length > 0) await syncPath(dir).catch(() => {});
        await new Promise((r) => setImmediate(r)); // a large vault's walk must not hold up requests
      }
    }
    return removed;
  }

  private async tempFile(): Promise<string> {
    const dir = join(this.root, 'tmp');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return join(dir, randomBytes(12).toString('hex'));
  }

  private async moveIntoPlace(tmp: string, sha256: string): Promise<void> {
    const target = this.pathOf(sha256);
    await mkdir(dirname(target), { recursive: true, mode: 0o700 });
    await rename(tmp, target);
    // The rename is durable only once its directory is: fsync it too.
    await syncPath(dirname(target));
  }

  /** Runs `job` with no other install or removal of the same blob interleaved. */
  private async exclusive<T>(sha256: string, job: () => Promise<T>): Promise<T> {
    const before = this.locks.get(sha256) ?? Promise.resolve();
    const run = before.catch(() => {}).then(job);
    this.locks.set(sha256, run);
    try {
      return await run;
    } finally {
      if (this.locks.get(sha256) === run) this.locks.delete(sha256);
    }
  }
}

async function namesIn(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw err;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
