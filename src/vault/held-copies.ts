import { createHash, createHmac } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { ensurePrivateDirectory, PRIVATE_FILE_MODE, syncPath, writeFileDurably } from '../durable-files.js';
import { dirname, join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { HeldCopyRow, ReplicaKind } from '../store/database.js';
import { deleteHeldCopy, deleteHeldJournals, findHeldCopy, listHeldCopies, upsertHeldCopy } from '../store/replicas-repository.js';
import type { Store } from '../store/store.js';
import type { HeldBlobState } from './peer-client.js';
import { canonicalize } from '../core/canonical-json.js';
import { verifyCertificateSegment } from './certificate-segment.js';
import { verifyChainStateDocument } from './chain-state-copy.js';
import { parseJournalKey, unframeBundle, verifyJournal, verifyPeriodBundle, type JournalSegment } from './period-bundle.js';
import { VaultError } from './vault-error.js';

const SHA256_HEX = /^[0-9a-f]{64}$/;
const MAX_BLOB_BYTES = 4 * 1024 ** 4;

/** A page of a list of held copies: at most `limit`, after the object `after` (the previous page's `next`). */
export interface HeldPage {
  limit: number;
  after?: string;
}

/** The largest page a peer may ask for, and the page it gets when it names none. */
export const HELD_PAGE_MAX = 5000;
export const HELD_PAGE_DEFAULT = 1000;

/**
 * What this center keeps for its peers: their encrypted blobs (which it cannot read) and their
 * signed period bundles, under `root/<origin>/`. A blob arrives in one or more PUTs appended to
 * a `.part` file, so a cut transfer resumes where it stopped; it counts as held only once the
 * whole file has the SHA-256 the origin declared.
 */
export class HeldCopies {
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly options: {
      root: string;
      store: Store;
      /** Roots bundle signatures must chain to. */
      trustRoots: readonly string[];
      now?: () => Date;
    },
  ) {}

  blobState(origin: string, sha256: string): HeldBlobState & { size: number | null } {
    checkSha256(sha256);
    const row = findHeldCopy(this.options.store, origin, 'blob', sha256);
    if (!row) return { received: 0, complete: false, sha256: null, size: null };
    return { received: row.received, complete: row.complete === 1, sha256: row.sha256, size: row.size };
  }

  /** Appends `body` (bytes `offset`… of a `size`-byte file) to the blob being received. */
  async receiveBlob(
    origin: string,
    sha256: string,
    body: Readable,
    declared: { offset: number; size: number; cipherSha256: string; replace: boolean },
  ): Promise<HeldBlobState> {
    checkSha256(sha256);
    if (!SHA256_HEX.test(declared.cipherSha256)) throw new VaultError('INVALID_REQUEST', 'cipherSha256 must be 64 hex digits');
    if (!Number.isSafeInteger(declared.size) || declared.size < 1 || declared.size > MAX_BLOB_BYTES) {
      throw new VaultError('INVALID_REQUEST', 'size must be a positive byte count');
    }
    if (!Number.isSafeInteger(declared.offset) || declared.offset < 0 || declared.offset > declared.size) {
      throw new VaultError('INVALID_REQUEST', 'offset must be between 0 and size');
    }
    return this.exclusive(`${origin}/${sha256}`, async () => {
      const { store } = this.options;
      const final = this.blobPath(origin, sha256);
      const part = `${final}.part`;
      let row = findHeldCopy(store, origin, 'blob', sha256);
      if (declared.replace || (row && row.size !== declared.size && declared.offset === 0)) {
        await rm(final, { force: true });
        await rm(part, { force: true });
        deleteHeldCopy(store, origin, 'blob', sha256);
        row = undefined;
      }
      if (row?.complete === 1) {
        body.resume();
        if (row.sha256 === declared.cipherSha256) return { received: row.size, complete: true, sha256: row.sha256 };
        throw new VaultError('HELD_DIFFERENT', `a different copy of ${sha256} is held (SHA-256 ${row.sha256}); send it with replace=1`);
      }
      const current = await sizeOf(part);
      if (declared.offset !== current) {
        body.resume();
        throw Object.assign(new VaultError('OFFSET_MISMATCH', `${current} bytes of ${sha256} are held; continue from there`), { received: current });
      }
      const at = this.now();
      const base: HeldCopyRow = {
        origin,
        kind: 'blob',
        object: sha256,
        size: declared.size,
        received: current,
        sha256: null,
        complete: 0,
        received_at: row?.received_at ?? at,
        updated_at: at,
      };
      upsertHeldCopy(store, base);
      await ensurePrivateDirectory(dirname(part));
      let arrived = 0;
      const limit = declared.size - declared.offset;
      const meter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          arrived += chunk.length;
          if (arrived > limit) return done(new VaultError('INVALID_REQUEST', `more than the ${limit} bytes declared`));
          done(null, chunk);
        },
      });
      let cut: unknown;
      try {
        await pipeline(body, meter, createWriteStream(part, { flags: 'a', mode: PRIVATE_FILE_MODE, highWaterMark: 1 << 20 }));
      } catch (err) {
        cut = err; // what arrived stays: the next attempt resumes after it
      }
      await syncPath(part, { missingOk: true });
      const received = await sizeOf(part);
      if (received > declared.size) {
        await rm(part, { force: true });
        upsertHeldCopy(store, { ...base, received: 0, updated_at: this.now() });
        throw cut ?? new VaultError('INVALID_REQUEST', 'more bytes than declared');
      }
      if (received < declared.size) {
        upsertHeldCopy(store, { ...base, received, updated_at: this.now() });
        if (cut) throw cut;
        return { received, complete: false, sha256: null };
      }
      const got = await sha256OfFile(part);
      if (got !== declared.cipherSha256) {
        await rm(part, { force: true });
        upsertHeldCopy(store, { ...base, received: 0, updated_at: this.now() });
        throw new VaultError('DIGEST_MISMATCH', `the ${declared.size} bytes received have SHA-256 ${got}, not the ${declared.cipherSha256} declared`);
      }
      await rename(part, final);
      await syncPath(dirname(final));
      upsertHeldCopy(store, { ...base, received, sha256: got, complete: 1, updated_at: this.now() });
      return { received, complete: true, sha256: got };
    });
  }

  /** The held blob's bytes, or undefined when it is not (completely) held. */
  openBlob(origin: string, sha256: string): { size: number; stream: Readable } | undefined {
    checkSha256(sha256);
    const row = findHeldCopy(this.options.store, origin, 'blob', sha256);
    if (!row || row.complete !== 1) return undefined;
    return { size: row.size, stream: createReadStream(this.blobPath(origin, sha256), { highWaterMark: 1 << 20 }) };
  }

  /** HMAC-SHA-256 with key `nonce` over the held blob, or null when it is not held (or its file is gone). */
  async challengeBlob(origin: string, sha256: string, nonce: Buffer): Promise<string | null> {
    checkSha256(sha256);
    const row = findHeldCopy(this.options.store, origin, 'blob', sha256);
    if (!row || row.complete !== 1) return null;
    try {
      const mac = createHmac('sha256', nonce);
      for await (const chunk of createReadStream(this.blobPath(origin, sha256), { highWaterMark: 1 << 20 })) mac.update(chunk as Buffer);
      return mac.digest('hex');
    } catch {
      return null;
    }
  }

  /** A page of the blobs held for `origin`, in SHA-256 order; `next` names where the next page starts (null: the last). */
  listBlobs(origin: string, page: HeldPage): { blobs: { sha256: string; size: number; cipherSha256: string }[]; next: string | null } {
    const { rows, next } = this.page(origin, 'blob', page);
    return { blobs: rows.map((r) => ({ sha256: r.object, size: r.size, cipherSha256: r.sha256! })), next };
  }

  /** One page of held copies, one row more read to know whether there is a next page. */
  private page(origin: string, kind: ReplicaKind, page: HeldPage): { rows: HeldCopyRow[]; next: string | null } {
    const rows = listHeldCopies(this.options.store, origin, kind, { limit: page.limit + 1, ...(page.after !== undefined && { after: page.after }) });
    if (rows.length <= page.limit) return { rows, next: null };
    const shown = rows.slice(0, page.limit);
    return { rows: shown, next: shown[shown.length - 1]?.object ?? null };
  }

  /** Keeps a signed bundle of `origin`'s period after checking its signature, origin and tree. */
  async receiveBundle(origin: string, periodId: number, framed: Buffer): Promise<{ sha256: string }> {
    const signed = unframeBundle(framed);
    const { bundle } = await verifyPeriodBundle(signed, this.options.trustRoots);
    if (bundle.center !== origin) throw new VaultError('BUNDLE_INVALID', `the bundle is center ${bundle.center}'s, not ${origin}'s`);
    if (bundle.period.id !== periodId) throw new VaultError('BUNDLE_INVALID', `the bundle is period ${bundle.period.id}'s, not ${periodId}'s`);
    const sha256 = createHash('sha256').update(signed.bytes).digest('hex');
    return this.exclusive(`${origin}/period/${periodId}`, async () => {
      const path = this.bundlePath(origin, periodId);
      await ensurePrivateDirectory(dirname(path));
      await writeFileDurably(path, framed);
      const at = this.now();
      const row = findHeldCopy(this.options.store, origin, 'period', String(periodId));
      upsertHeldCopy(this.options.store, {
        origin,
        kind: 'period',
        object: String(periodId),
        size: framed.length,
        received: framed.length,
        sha256,
        complete: 1,
        received_at: row?.received_at ?? at,
        updated_at: at,
      });
      // The sealed period's bundle holds every registration its journal segments held.
      for (const key of deleteHeldJournals(this.options.store, origin, periodId)) await rm(this.journalPath(origin, key), { force: true });
      return { sha256 };
    });
  }

  /**
   * Keeps a signed journal segment of `origin` (registrations of a period not yet sealed).
   * Idempotent: a segment overlapping held ones (a restarted or recovered center sends its open
   * period again under another range) is compared registration by registration with them; the
   * same registrations are kept once (held segments it wholly covers are dropped), a different
   * registration under the same id or leaf is refused (HELD_DIFFERENT) and nothing is changed.
   */
  async receiveJournal(origin: string, key: string, framed: Buffer): Promise<{ sha256: string }> {
    const range = parseJournalKey(key);
    if (!range) throw new VaultError('INVALID_REQUEST', 'a journal segment is named <period>:<first id>-<last id>');
    const signed = unframeBundle(framed);
    const segment = await verifyJournal(signed, key, this.options.trustRoots);
    if (segment.center !== origin) throw new VaultError('BUNDLE_INVALID', `the segment is center ${segment.center}'s, not ${origin}'s`);
    const sha256 = createHash('sha256').update(signed.bytes).digest('hex');
    return this.exclusive(`${origin}/journal/${range.periodId}`, async () => {
      const { store } = this.options;
      if (findHeldCopy(store, origin, 'period', String(range.periodId))) return { sha256 }; // already sealed here
      const covered: string[] = [];
      for (const held of listHeldCopies(store, origin, 'journal')) {
        const other = parseJournalKey(held.object);
        if (!other || other.periodId !== range.periodId || other.lastId < range.firstId || other.firstId > range.lastId || held.object === key) continue;
        const heldSegment = await this.heldJournal(origin, held.object);
        if (heldSegment) checkSameRegistrations(segment, key, heldSegment, held.object);
        if (other.firstId >= range.firstId && other.lastId <= range.lastId) covered.push(held.object);
      }
      const path = this.journalPath(origin, key);
      await ensurePrivateDirectory(dirname(path));
      await writeFileDurably(path, framed);
      const at = this.now();
      upsertHeldCopy(store, { origin, kind: 'journal', object: key, size: framed.length, received: framed.length, sha256, complete: 1, received_at: at, updated_at: at });
      for (const object of covered) {
        deleteHeldCopy(store, origin, 'journal', object); // the row first: a file without one is removed at start
        await rm(this.journalPath(origin, object), { force: true });
      }
      return { sha256 };
    });
  }

  /** A held journal segment as it was received, or undefined when its file is gone or damaged (the new one replaces it). */
  private async heldJournal(origin: string, key: string): Promise<JournalSegment | undefined> {
    const framed = await this.readJournal(origin, key);
    if (!framed) return undefined;
    try {
      return await verifyJournal(unframeBundle(framed), key, this.options.trustRoots);
    } catch {
      return undefined;
    }
  }

  /** Keeps a signed certificate segment of `origin` (issued certificates with their link ids). */
  async receiveCertificates(origin: string, key: string, framed: Buffer): Promise<{ sha256: string }> {
    const signed = unframeBundle(framed);
    const segment = await verifyCertificateSegment(signed, key, this.options.trustRoots).catch((err: unknown) => {
      throw err instanceof VaultError && err.message.includes('does not name') ? new VaultError('INVALID_REQUEST', err.message) : err;
    });
    if (segment.center !== origin) throw new VaultError('BUNDLE_INVALID', `the segment is center ${segment.center}'s, not ${origin}'s`);
    return this.keepSigned(origin, 'certificates', key, framed, signed.bytes);
  }

  /** Keeps the newest signed (and sealed) state of `origin`'s embedded chain `name`, replacing the one held. */
  async receiveChainState(origin: string, name: string, framed: Buffer): Promise<{ sha256: string }> {
    if (!/^[a-z][a-z0-9-]{0,31}$/.test(name)) throw new VaultError('INVALID_REQUEST', 'a chain is named by lower-case letters, digits and hyphens');
    const signed = unframeBundle(framed);
    const document = await verifyChainStateDocument(signed, name, this.options.trustRoots);
    if (document.center !== origin) throw new VaultError('BUNDLE_INVALID', `the chain state is center ${document.center}'s, not ${origin}'s`);
    return this.keepSigned(origin, 'chain', name, framed, signed.bytes);
  }

  private async keepSigned(origin: string, kind: 'certificates' | 'chain', key: string, framed: Buffer, bytes: Buffer): Promise<{ sha256: string }> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    return this.exclusive(`${origin}/${kind}/${key}`, async () => {
      const path = this.signedPath(origin, kind, key);
      await ensurePrivateDirectory(dirname(path));
      await writeFileDurably(path, framed);
      const at = this.now();
      const row = findHeldCopy(this.options.store, origin, kind, key);
      upsertHeldCopy(this.options.store, { origin, kind, object: key, size: framed.length, received: framed.length, sha256, complete: 1, received_at: row?.received_at ?? at, updated_at: at });
      return { sha256 };
    });
  }

  /** A held certificate segment or chain state, framed, or undefined. */
  async readSigned(origin: string, kind: 'certificates' | 'chain', key: string): Promise<Buffer | undefined> {
    if (!findHeldCopy(this.options.store, origin, kind, key)) return undefined;
    try {
      return await readFile(this.signedPath(origin, kind, key));
    } catch {
      return undefined;
    }
  }

  /** A page of the certificate segments or chain states held for `origin`, in key order. */
  listSigned(origin: string, kind: 'certificates' | 'chain', page: HeldPage): { items: { key: string; sha256: string; size: number }[]; next: string | null } {
    const { rows, next } = this.page(origin, kind, page);
    return { items: rows.map((r) => ({ key: r.object, sha256: r.sha256!, size: r.size })), next };
  }

  /**
   * HMAC-SHA-256 with key `nonce` over every byte held of a signed document (framing, signature
   * and content: all a recovery reads), or null when it is not held.
   */
  async challengeSigned(origin: string, kind: 'period' | 'journal' | 'certificates' | 'chain', key: string, nonce: Buffer): Promise<string | null> {
    const framed =
      kind === 'period'
        ? /^[1-9]\d{0,15}$/.test(key) ? await this.readBundle(origin, Number(key)) : undefined
        : kind === 'journal'
          ? await this.readJournal(origin, key)
          : await this.readSigned(origin, kind, key);
    return framed ? createHmac('sha256', nonce).update(framed).digest('hex') : null;
  }

  signedPath(origin: string, kind: 'certificates' | 'chain', key: string): string {
    return kind === 'chain' ? join(this.options.root, origin, 'chains', `${key}.state`) : join(this.options.root, origin, 'certificates', `${key}.segment`);
  }

  async readJournal(origin: string, key: string): Promise<Buffer | undefined> {
    if (!parseJournalKey(key) || !findHeldCopy(this.options.store, origin, 'journal', key)) return undefined;
    try {
      return await readFile(this.journalPath(origin, key));
    } catch {
      return undefined;
    }
  }

  /** A page of the journal segments held for `origin`, in key order (as text). */
  listJournals(origin: string, page: HeldPage): { journals: { key: string; sha256: string; size: number }[]; next: string | null } {
    const { rows, next } = this.page(origin, 'journal', page);
    return { journals: rows.map((r) => ({ key: r.object, sha256: r.sha256!, size: r.size })), next };
  }

  journalPath(origin: string, key: string): string {
    return join(this.options.root, origin, 'journal', `${key.replace(':', '_')}.segment`);
  }

  async readBundle(origin: string, periodId: number): Promise<Buffer | undefined> {
    const row = findHeldCopy(this.options.store, origin, 'period', String(periodId));
    if (!row) return undefined;
    try {
      return await readFile(this.bundlePath(origin, periodId));
    } catch {
      return undefined;
    }
  }

  /** HMAC-SHA-256 with key `nonce` over the whole held bundle (framing, signature and bytes), or null. */
  async challengeBundle(origin: string, periodId: number, nonce: Buffer): Promise<string | null> {
    return this.challengeSigned(origin, 'period', String(periodId), nonce);
  }

  /** A page of the period bundles held for `origin`, in the order of their ids as text (the cursor's); a client sorts them. */
  listBundles(origin: string, page: HeldPage): { periods: { periodId: number; sha256: string; size: number }[]; next: string | null } {
    const { rows, next } = this.page(origin, 'period', page);
    return { periods: rows.map((r) => ({ periodId: Number(r.object), sha256: r.sha256!, size: r.size })), next };
  }

  /**
   * Removes the files under the held tree that no row names: what a kill between a file's write
   * and its row (or a row's delete and its file's unlink) left, and the temporary files of
   * writes cut short. Call it at start, before the peer listener takes copies (a copy being
   * received is such a file for a moment). Returns the paths removed.
   */
  async removeFilesWithoutRow(): Promise<string[]> {
    const { root, store } = this.options;
    const removed: string[] = [];
    const held = (origin: string, kind: HeldKind, object: string) => findHeldCopy(store, origin, kind, object) !== undefined;
    const sweep = async (dir: string, keep: (name: string) => boolean) => {
      for (const name of await namesIn(dir)) {
        if (keep(name)) continue;
        const path = join(dir, name);
        if ((await stat(path).catch(() => undefined))?.isFile() !== true) continue;
        await rm(path, { force: true });
        removed.push(path);
      }
    };
    for (const origin of await namesIn(root)) {
      const base = join(root, origin);
      await sweep(join(base, 'periods'), (n) => /^[1-9]\d*\.bundle$/.test(n) && held(origin, 'period', n.slice(0, -'.bundle'.length)));
      await sweep(join(base, 'journal'), (n) => n.endsWith('.segment') && held(origin, 'journal', n.slice(0, -'.segment'.length).replace('_', ':')));
      await sweep(join(base, 'certificates'), (n) => n.endsWith('.segment') && held(origin, 'certificates', n.slice(0, -'.segment'.length)));
      await sweep(join(base, 'chains'), (n) => n.endsWith('.state') && held(origin, 'chain', n.slice(0, -'.state'.length)));
      for (const prefix of await namesIn(join(base, 'blobs'))) {
        await sweep(join(base, 'blobs', prefix), (n) => held(origin, 'blob', n.endsWith('.part') ? n.slice(0, -'.part'.length) : n));
      }
    }
    return removed;
  }

  /** Where a held blob lives (tests damage it there). */
  blobPath(origin: string, sha256: string): string {
    return join(this.options.root, origin, 'blobs', sha256.slice(0, 2), sha256);
  }

  bundlePath(origin: string, periodId: number): string {
    return join(this.options.root, origin, 'periods', `${periodId}.bundle`);
  }

  private now(): string {
    return (this.options.now?.() ?? new Date()).toISOString();
  }

  private async exclusive<T>(key: string, job: () => Promise<T>): Promise<T> {
    const before = this.locks.get(key) ?? Promise.resolve();
    const run = before.catch(() => {}).then(job);
    this.locks.set(key, run);
    try {
      return await run;
    } finally {
      if (this.locks.get(key) === run) this.locks.delete(key);
    }
  }
}

/** Throws HELD_DIFFERENT when `segment` and a held one disagree on a registration they both name (by id or by leaf). */
function checkSameRegistrations(segment: JournalSegment, key: string, held: JournalSegment, heldKey: string): void {
  const byId = new Map(held.registrations.map((r) => [r.id, r]));
  const byLeaf = new Map(held.registrations.map((r) => [r.leafIndex, r.id]));
  for (const r of segment.registrations) {
    const same = byId.get(r.id);
    const atLeaf = byLeaf.get(r.leafIndex);
    if ((same && canonicalize(same) !== canonicalize(r)) || (atLeaf !== undefined && atLeaf !== r.id)) {
      throw new VaultError(
        'HELD_DIFFERENT',
        `journal segment ${key} conflicts with the held segment ${heldKey}: registration ${r.id} (leaf ${r.leafIndex}) differs from the one held; nothing was changed`,
      );
    }
  }
}

type HeldKind = 'blob' | 'period' | 'journal' | 'certificates' | 'chain';

async function namesIn(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

function checkSha256(sha256: string): void {
  if (!SHA256_HEX.test(sha256)) throw new VaultError('INVALID_REQUEST', 'a blob is named by its SHA-256: 64 lower-case hex digits');
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function sha256OfFile(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}
