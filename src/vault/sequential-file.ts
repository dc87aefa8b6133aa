import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/** Bytes staged before each write: large writes are what O_DIRECT wants. */
const STAGE_BYTES = 4 * 1024 * 1024;
/** O_DIRECT wants buffer addresses, offsets and lengths aligned to the logical block; 4 KiB covers every common device. */
const ALIGN = 4096;
/** Sync this often while writing, so that the final sync has little left to do. */
const SYNC_EVERY = 64 * 1024 * 1024;
const WASM_PAGE = 65536;
const MEMORY_PAGES = Math.ceil((2 * STAGE_BYTES + ALIGN) / WASM_PAGE);
/**
 * Staging memories of finished files, for the next ones: V8 reserves a large address range for
 * every WebAssembly memory and frees it only when collected, so a busy center reuses a few
 * instead of making one per upload.
 */
const freeMemories: WebAssembly.Memory[] = [];
const MAX_FREE_MEMORIES = 4;

/**
 * A new file written front to back and made durable once, for the vault's originals (GiB-sized).
 *
 * It writes with O_DIRECT where the file system allows it. Measured on this project's 2-core VM
 * for 1 GiB (`node scripts/bench-vault.ts`, and `dd` alike): through the page cache a write plus
 * fdatasync took 4.3 s and 5.4 s of CPU; with O_DIRECT 0.7 s and under 0.1 s of CPU. An upload
 * hashes with SM3 on one core, so the CPU the page cache would burn is the upload's speed.
 *
 * O_DIRECT needs aligned memory, and JavaScript cannot ask for an address; a WebAssembly
 * memory's buffer starts on a page boundary, so the staging buffers are cut from one. Where
 * O_DIRECT is refused (tmpfs, some network file systems) the same code writes through the page
 * cache. Either way it syncs every 64 MiB as the file grows: what O_DIRECT wrote can still sit in
 * the disk's own cache, and a single sync at the end of 1 GiB took 0.7 s here, 15 % of the
 * upload; synced as it goes, beside the next writes, the end waits about 45 ms. The file is
 * complete and fdatasync'ed before {@link SequentialFile.finish} resolves.
 *
 * The first `reserve` bytes are left for a header known only at the end (the vault's, which
 * carries the content's SHA-256): `finish(head)` writes it.
 */
export class SequentialFile {
  private readonly memory: WebAssembly.Memory;
  private released = false;
  private readonly stages: Buffer[];
  /** A copy of the file's first aligned page, so `finish` can put the header into it. */
  private readonly firstPage: Buffer;
  private firstPageKept = false;
  private stage = 0;
  private fill: number;
  /** File offset of the current stage's first byte (always aligned). */
  private stageAt = 0;
  private inFlight: Promise<unknown> | undefined;
  private syncedAt = 0;
  /** A sync of the direct writes so far, running beside the next writes (see flushStage). */
  private syncing: Promise<void> | undefined;
  private syncRunning = false;

  private constructor(
    private readonly handle: FileHandle,
    private readonly direct: boolean,
    private readonly reserve: number,
  ) {
    if (reserve > ALIGN) throw new RangeError(`a reserved head of ${reserve} bytes is more than one ${ALIGN}-byte page`);
    const memory = (this.memory = freeMemories.pop() ?? new WebAssembly.Memory({ initial: MEMORY_PAGES }));
    this.stages = [Buffer.from(memory.buffer, 0, STAGE_BYTES), Buffer.from(memory.buffer, STAGE_BYTES, STAGE_BYTES)];
    this.firstPage = Buffer.from(memory.buffer, 2 * STAGE_BYTES, ALIGN);
    this.fill = reserve;
    this.stages[0]!.fill(0, 0, reserve); // a reused memory holds an earlier file's bytes
  }

  /** Creates `path` (it must not exist) with `mode`; `directIo: false` goes through the page cache. */
  static async create(path: string, options: { reserve?: number; mode?: number; directIo?: boolean } = {}): Promise<SequentialFile> {
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL;
    const mode = options.mode ?? 0o600;
    let handle: FileHandle | undefined;
    let direct = options.directIo ?? true;
    if (direct) {
      try {
        handle = await open(path, flags | constants.O_DIRECT, mode);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
        // Linux creates the file before it refuses O_DIRECT: open that one, without.
        handle = await open(path, constants.O_WRONLY | constants.O_TRUNC);
        direct = false;
      }
    }
    handle ??= await open(path, flags, mode);
    return new SequentialFile(handle, direct, options.reserve ?? 0);
  }

  /** True while writes bypass the page cache (O_DIRECT). */
  get directIo(): boolean {
    return this.direct;
  }

  /** Bytes of the file so far, the reserved head included. */
  get size(): number {
    return this.stageAt + this.fill;
  }

  /** Appends the chunks (copied: they may be reused once this resolves). */
  async append(...chunks: Uint8Array[]): Promise<void> {
    for (const chunk of chunks) {
      let offset = 0;
      while (offset < chunk.length) {
        const n = Math.min(chunk.length - offset, STAGE_BYTES - this.fill);
        this.stages[this.stage]!.set(chunk.subarray(offset, offset + n), this.fill);
        this.fill += n;
        offset += n;
        if (this.fill === STAGE_BYTES) await this.flushStage(STAGE_BYTES);
      }
    }
  }

  /**
   * Writes `head` (exactly the reserved length) at the start, the rest of the data, fdatasyncs
   * and closes. Returns the file's size.
   */
  async finish(head: Uint8Array = new Uint8Array(0)): Promise<number> {
    if (head.length !== this.reserve) throw new RangeError(`the head is ${head.length} bytes, not the ${this.reserve} reserved`);
    const size = this.size;
    if (this.fill > 0 || !this.firstPageKept) {
      // The last stage, zero-padded to whole pages; the padding is cut off below.
      const padded = Math.ceil(this.fill / ALIGN) * ALIGN;
      this.stages[this.stage]!.fill(0, this.fill, padded);
      await this.flushStage(padded);
    }
    await this.inFlight;
    await this.syncing;
    if (this.reserve > 0) {
      this.firstPage.set(head, 0);
      await this.handle.write(this.firstPage, 0, ALIGN, 0);
    }
    await this.handle.truncate(size);
    await this.handle.datasync();
    await this.handle.close();
    this.release();
    return size;
  }

  /** Closes the file without finishing it (the caller removes it). */
  async abort(): Promise<void> {
    await this.inFlight?.catch(() => {});
    await this.syncing?.catch(() => {});
    await this.handle.close().catch(() => {});
    this.release();
  }

  /** Gives the staging memory back once no write can still be reading it. */
  private release(): void {
    if (this.released) return;
    this.released = true;
    if (freeMemories.length < MAX_FREE_MEMORIES) freeMemories.push(this.memory);
  }

  /** Writes the current stage's first `length` bytes (whole pages) and moves to the other stage. */
  private async flushStage(length: number): Promise<void> {
    const buffer = this.stages[this.stage]!;
    if (!this.firstPageKept) {
      buffer.copy(this.firstPage, 0, 0, ALIGN);
      this.firstPageKept = true;
    }
    // One write in flight while the other stage fills.
    await this.inFlight;
    const at = this.stageAt;
    this.inFlight = settledLater(this.handle.write(buffer, 0, length, at));
    this.stageAt += length;
    this.stage = 1 - this.stage;
    this.fill = 0;
    if (this.stageAt - this.syncedAt >= SYNC_EVERY) {
      this.syncedAt = this.stageAt;
      const written = this.inFlight;
      if (!this.direct) this.inFlight = settledLater(written.then(() => this.handle.datasync()));
      else if (!this.syncRunning) {
        // Data written with O_DIRECT can still sit in the disk's own cache: flushed as the file
        // grows, beside the next writes, rather than all of it by the final sync. A failed sync
        // stays in the chain, so `finish` throws it.
        this.syncRunning = true;
        const before = this.syncing;
        this.syncing = settledLater(
          written
            .then(() => before)
            .then(() => this.handle.datasync())
            .finally(() => (this.syncRunning = false)),
        );
      }
    }
  }
}

/**
 * `promise`, marked as handled: a write fails while the caller awaits something else (the
 * upload stream, the SM3 thread), and an unhandled rejection would end the process. The next
 * await of it still throws.
 */
function settledLater<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}
