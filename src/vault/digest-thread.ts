import { Worker } from 'node:worker_threads';

/**
 * SM3 (or any node:crypto digest) computed on a worker thread. SM3 runs at ~0.3-0.4 GB/s on one
 * core (FINDINGS.md), slower than everything else an upload does; on its own thread it runs
 * beside the HTTP thread's parsing, SHA-256, encryption and writing instead of after them.
 * Chunks are transferred, not copied, and each job bounds the bytes in flight, so a fast
 * producer waits for the thread rather than piling up memory.
 */
export class DigestThread {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly jobs = new Map<number, DigestJob>();
  /** Chunk memory the thread handed back after hashing, for the next chunks (no fresh pages, less GC). */
  private readonly pool: ArrayBuffer[] = [];

  constructor(private readonly maxInFlightBytes = 16 * 1024 * 1024) {}

  /** A new running digest of `algorithm` (e.g. `sm3`). */
  begin(algorithm: string): DigestJob {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    const job = new DigestJob(id, worker, this.maxInFlightBytes, (size) => this.takeBuffer(size), (buffers) => this.recycle(buffers), () => {
      // Referenced only while a job runs: a CLI waiting on a digest must not exit, an idle
      // thread must not keep it alive.
      if (this.jobs.delete(id) && this.jobs.size === 0) worker.unref();
    });
    if (this.jobs.size === 0) worker.ref();
    this.jobs.set(id, job);
    worker.postMessage({ type: 'begin', id, algorithm });
    return job;
  }

  /** A buffer of `size` bytes (contents undefined), reusing memory the thread gave back when it can. */
  takeBuffer(size: number): Buffer {
    const index = this.pool.findIndex((b) => b.byteLength === size);
    if (index >= 0) return Buffer.from(this.pool.splice(index, 1)[0]!);
    return Buffer.allocUnsafeSlow(size);
  }

  private recycle(buffers: ArrayBuffer[]): void {
    for (const b of buffers) if (this.pool.length < 64 && b.byteLength >= 64 * 1024) this.pool.push(b);
  }

  /** Stops the thread; running jobs fail. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    for (const job of this.jobs.values()) job.fail(new Error('the digest thread was stopped'));
    this.jobs.clear();
    await worker?.terminate();
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref();
    worker.on('message', (m: WorkerReply) => this.jobs.get(m.id)?.onReply(m));
    const gone = (err: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      for (const job of this.jobs.values()) job.fail(err);
      this.jobs.clear();
    };
    worker.on('error', gone);
    worker.on('exit', (code) => gone(new Error(`the digest thread exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }
}

type WorkerReply =
  | { type: 'ack'; id: number; bytes: number; buffers: ArrayBuffer[] }
  | { type: 'digest'; id: number; hex: string }
  | { type: 'error'; id: number; message: string };

/** One running digest on the thread. */
export class DigestJob {
  private inFlight = 0;
  private waiting: (() => void) | undefined;
  private result: { resolve: (hex: string) => void; reject: (err: Error) => void } | undefined;
  private readonly done: Promise<string>;
  private error: Error | undefined;

  constructor(
    private readonly id: number,
    private readonly worker: Worker,
    private readonly maxInFlight: number,
    private readonly take: (size: number) => Buffer,
    private readonly recycle: (buffers: ArrayBuffer[]) => void,
    private readonly release: () => void,
  ) {
    this.done = new Promise((resolve, reject) => (this.result = { resolve, reject }));
    this.done.catch(() => {}); // a job abandoned after a failure must not be an unhandled rejection
  }

  /**
   * Hands `chunk` to the thread. With `transfer` (the default) the chunk's memory is moved when
   * it owns its whole ArrayBuffer (the caller must not touch it afterwards); otherwise copied. Resolves at once
   * unless too many bytes are in flight.
   */
  async update(chunk: Buffer, options: { transfer: boolean } = { transfer: true }): Promise<void> {
    if (this.error) throw this.error;
    const length = chunk.length;
    if (length === 0) return;
    const owned =
      options.transfer && chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && chunk.buffer instanceof ArrayBuffer;
    let buf: ArrayBuffer;
    if (owned) buf = chunk.buffer as ArrayBuffer;
    else {
      const copy = this.take(length);
      chunk.copy(copy);
      buf = copy.buffer as ArrayBuffer;
    }
    this.inFlight += length;
    this.worker.postMessage({ type: 'data', id: this.id, buf, length }, [buf]);
    while (this.inFlight > this.maxInFlight && !this.error) {
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
    if (this.error) throw this.error;
  }

  /** The digest, lower-case hex, once the thread has every chunk. */
  digest(): Promise<string> {
    if (!this.error) this.worker.postMessage({ type: 'end', id: this.id });
    return this.done;
  }

  /** Forgets the job (an abandoned upload). */
  abort(): void {
    if (this.error) return;
    this.fail(new Error('digest aborted'));
    this.worker.postMessage({ type: 'abort', id: this.id });
  }

  /** @internal */
  onReply(reply: WorkerReply): void {
    if (reply.type === 'ack') {
      this.inFlight -= reply.bytes;
      this.recycle(reply.buffers);
      const wake = this.waiting;
      this.waiting = undefined;
      wake?.();
    } else if (reply.type === 'digest') {
      this.release();
      this.result?.resolve(reply.hex);
    } else {
      this.fail(new Error(`digest thread: ${reply.message}`));
    }
  }

  /** @internal */
  fail(err: Error): void {
    this.error ??= err;
    this.release();
    this.result?.reject(this.error);
    const wake = this.waiting;
    this.waiting = undefined;
    wake?.();
  }
}

// CommonJS, evaluated in the worker: no build step, the same under tsx and from dist.
const ACK_BYTES = 4 * 1024 * 1024;
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = new Map();
const unacked = new Map();
const done = new Map();
const ACK_BYTES = ${ACK_BYTES};
parentPort.on('message', (m) => {
  try {
    if (m.type === 'begin') {
      hashes.set(m.id, createHash(m.algorithm));
      unacked.set(m.id, 0);
    } else if (m.type === 'data') {
      const h = hashes.get(m.id);
      if (h) h.update(new Uint8Array(m.buf, 0, m.length));
      // Acknowledged in batches (a message per chunk costs the thread more than it should),
      // handing the chunks' memory back for reuse.
      const pending = (unacked.get(m.id) || 0) + m.length;
      const buffers = done.get(m.id) || [];
      buffers.push(m.buf);
      if (pending >= ACK_BYTES) {
        parentPort.postMessage({ type: 'ack', id: m.id, bytes: pending, buffers }, buffers);
        unacked.set(m.id, 0);
        done.set(m.id, []);
      } else {
        unacked.set(m.id, pending);
        done.set(m.id, buffers);
      }
    } else if (m.type === 'end') {
      const h = hashes.get(m.id);
      hashes.delete(m.id);
      unacked.delete(m.id);
      done.delete(m.id);
      if (h) parentPort.postMessage({ type: 'digest', id: m.id, hex: h.digest('hex') });
      else parentPort.postMessage({ type: 'error', id: m.id, message: 'unknown digest job' });
    } else if (m.type === 'abort') {
      hashes.delete(m.id);
      unacked.delete(m.id);
      done.delete(m.id);
    }
  } catch (e) {
    parentPort.postMessage({ type: 'error', id: m.id, message: String((e && e.message) || e) });
  }
});
`;
