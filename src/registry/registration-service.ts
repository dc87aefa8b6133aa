import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { findRegistration, findRegistrationSummaries } from '../store/registrations-repository.js';
import type { Store } from '../store/store.js';
import type { Principal } from './principal.js';
import type { RegistrationReader } from './registration-reader.js';
import type { RegistrationView } from './registration-view.js';
import type { RegistrationRequest, WriterOutcome } from './registration-writer.js';
import type { Receipt } from '../core/receipt.js';
import { MAX_BATCH, type ThreadJob, type ThreadJobResult, type WriterThreadData, type WriterThreadReply } from './registration-threads.js';
import { invariant, RegistryError, type RegistryErrorCode } from './registry-error.js';
import { WaitingQueue } from './waiting-queue.js';

export type { RegistrationRequest } from './registration-writer.js';

export { MAX_BATCH } from './registration-threads.js';

export interface RegistrationOutcome {
  registration: RegistrationView;
  /** False when the same registrant had already registered the same content. */
  created: boolean;
}

/** A request's answer: each registration, and the center's signed receipt covering them all. */
export interface Registered<T> {
  outcomes: T[];
  receipt: Receipt;
}

/** One entry of a batch answer. */
export interface BatchOutcome {
  id: number;
  created: boolean;
  status: RegistrationView['status'];
  periodId: number;
  registeredAt: string;
  digests: RegistrationView['digests'];
  /** The salted leaf (what the receipt and, later, the period root commit to). */
  leafHash: string;
}

/** A caller waiting for its job's result. */
interface Job {
  resolve: (result: ThreadJobResult) => void;
  reject: (err: unknown) => void;
}

export interface RegistrationServiceOptions {
  /** The HTTP thread's connection: reads earlier registrations shown again as duplicates. */
  store: Store;
  /** Shows an earlier registration (with its proof) when the same content comes again. */
  reader: RegistrationReader;
  /** What the writer thread needs: the database, how to build records, the receipt signer. */
  writer: Omit<WriterThreadData, 'pseudonymKey' | 'jobs'> & { pseudonymKey: Buffer };
}

/**
 * Takes registrations and commits them in groups on a writer thread: each request goes to the
 * thread as it arrives, and each time the thread is free it takes all that came meanwhile as one
 * group (its transaction, its receipt). Each caller
 * is answered only after its rows are committed. One transaction per group keeps SQLite at tens
 * of thousands of rows per second where a transaction per row manages a few thousand, and the
 * thread keeps that work, the group's receipt signature and the answers' serialization off
 * the event loop that parses requests and sends answers.
 */
export class RegistrationService {
  private readonly store: Store;
  private readonly reader: RegistrationReader;
  private readonly worker: Worker;
  /** Jobs go to the writer thread, and its answers come back, through this port. */
  private readonly port: MessagePort;
  private readonly ready: Promise<void>;
  /** Sent and not yet answered, in the order sent (the writer answers in that order). */
  private readonly waiting = new WaitingQueue<Job>();
  private seq = 0;
  private closed = false;
  private failure: Error | undefined;

  private constructor(options: RegistrationServiceOptions) {
    this.store = options.store;
    this.reader = options.reader;
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = startWriterThread({ ...options.writer, jobs: port2 });
    this.ready = new Promise((resolve, reject) => {
      this.worker.once('message', () => resolve());
      this.worker.once('error', reject);
    });
    this.port.on('message', (reply: WriterThreadReply) => this.onReply(reply));
    this.worker.on('error', (err) => this.onWorkerGone(err));
    this.worker.on('exit', (code) => this.onWorkerGone(new Error(`registration writer thread exited with code ${code}`)));
  }

  /** Starts the writer thread; resolves once it has opened the database. */
  static async start(options: RegistrationServiceOptions): Promise<RegistrationService> {
    const service = new RegistrationService(options);
    await service.ready;
    return service;
  }

  /** Registers `requests` for `principal`; answers with each registration once committed. */
  async register(principal: Principal, requests: RegistrationRequest[]): Promise<Registered<RegistrationOutcome>> {
    const { outcomes, receipt } = await this.submitForObjects({ principal, requests, detail: 'full', asJson: false });
    return {
      receipt,
      outcomes: outcomes.map((o) => {
        if (!o.created) return { created: false, registration: this.viewOf(o.id) };
        invariant('registration' in o, 'full outcome without a view');
        return { created: true, registration: o.registration };
      }),
    };
  }

  /** Registers up to 10,000 entries for `principal`; answers with a summary of each. */
  async registerBatch(principal: Principal, requests: RegistrationRequest[]): Promise<Registered<BatchOutcome>> {
    const { outcomes, receipt } = await this.submitForObjects({ principal, requests, detail: 'summary', asJson: false });
    // Repeats (a directory registered again) are read in one query, not one full view each.
    const repeats = outcomes.flatMap((o) => (o.created ? [] : [o.id]));
    const earlier = repeats.length === 0 ? new Map() : findRegistrationSummaries(this.store, repeats);
    return {
      receipt,
      outcomes: outcomes.map((o, i) => {
        if (o.created && 'summary' in o) {
          const { sha256, sm3 } = requests[i]!;
          return { ...o.summary, created: true, status: 'pending', digests: { sha256, ...(sm3 !== undefined && { sm3 }) } };
        }
        invariant(!o.created, 'summary outcome without a summary');
        const r = earlier.get(o.id);
        invariant(r, `registration ${o.id} vanished`);
        return {
          id: r.id,
          created: false,
          status: r.sealed ? 'sealed' : 'pending',
          periodId: r.period_id,
          registeredAt: r.registered_at,
          digests: { sha256: r.sha256.toString('hex'), ...(r.sm3 !== null && { sm3: r.sm3.toString('hex') }) },
          leafHash: r.leaf_hash.toString('hex'),
        };
      }),
    };
  }

  /**
   * Registers one request and gives the HTTP answer's JSON: the registration's view (the
   * earlier one for a repeat) with its receipt, as `register` would, built on the writer thread
   * so that this thread only sends it.
   */
  async registerAsJson(principal: Principal, request: RegistrationRequest): Promise<{ created: boolean; json: string }> {
    const result = await this.submit({ principal, requests: [request], detail: 'full', asJson: true });
    invariant('json' in result, 'a JSON job answered with objects');
    return result;
  }

  private async submitForObjects(job: ThreadJob): Promise<{ outcomes: WriterOutcome[]; receipt: Receipt }> {
    const result = await this.submit(job);
    invariant('outcomes' in result, 'an object job answered with JSON');
    return result;
  }

  private submit(job: ThreadJob): Promise<ThreadJobResult> {
    const { requests } = job;
    if (requests.length === 0) return Promise.reject(new RegistryError('EMPTY_BATCH', 'nothing to register'));
    if (requests.length > MAX_BATCH) {
      return Promise.reject(new RegistryError('BATCH_TOO_LARGE', `at most ${MAX_BATCH} registrations per request`));
    }
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('the registration service is closed'));
    return new Promise((resolve, reject) => {
      const seq = ++this.seq;
      this.waiting.push(seq, { resolve, reject });
      this.port.postMessage({ seq, job });
    });
  }

  /** Waits for sent registrations to commit, then stops the writer thread. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.waiting.size > 0 && !this.failure) await new Promise((r) => setTimeout(r, 5));
    await this.worker.terminate();
    this.port.close();
  }

  private onReply(reply: WriterThreadReply): void {
    if (this.failure) return; // its callers have been told already
    const jobs = reply.seqs.map((seq) => this.waiting.take(seq));
    const lost = jobs.indexOf(undefined);
    if (lost >= 0) {
      const err = new Error(`invariant failed: the writer answered job ${reply.seqs[lost]} out of order`);
      for (const job of jobs) job?.reject(err);
      this.onWorkerGone(err);
      return;
    }
    if ('error' in reply) {
      const { name, code, message } = reply.error;
      const err = name === 'RegistryError' ? new RegistryError(code as RegistryErrorCode, message) : Object.assign(new Error(message), reply.error);
      for (const job of jobs) job!.reject(err);
      return;
    }
    jobs.forEach((job, i) => job!.resolve(reply.results[i]!));
  }

  private onWorkerGone(err: Error): void {
    if (this.closed && this.waiting.size === 0) return;
    // Without its writer the service cannot register: say so to everyone waiting, and after.
    this.failure ??= err;
    for (const job of this.waiting.drain()) job.reject(this.failure);
  }

  private viewOf(id: number): RegistrationView {
    const row = findRegistration(this.store, id);
    invariant(row, `registration ${id} vanished`);
    return this.reader.viewOf(row);
  }
}

/** The writer thread: the compiled .js in dist, or the .ts source through tsx under tests. */
function startWriterThread(data: WriterThreadData): Worker {
  const js = new URL('./registration-writer-worker.js', import.meta.url);
  const transferList = [data.jobs];
  if (existsSync(fileURLToPath(js))) return new Worker(js, { workerData: data, transferList });
  const ts = new URL('./registration-writer-worker.ts', import.meta.url).href;
  return new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(ts)}); })`, {
    eval: true,
    workerData: data,
    transferList,
  });
}
