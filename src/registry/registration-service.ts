import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { findRegistration, findRegistrationSummaries } from '../store/registrations-repository.js';
import type { Store } from '../store/store.js';
import type { Principal } from './principal.js';
import type { RegistrationReader } from './registration-reader.js';
import type { RegistrationView } from './registration-view.js';
import type { RegistrationRequest, WriterOutcome } from './registration-writer.js';
import type { Receipt } from '../core/receipt.js';
import type { ThreadJob, ThreadJobResult, WriterThreadData, WriterThreadReply } from './registration-threads.js';
import { invariant, RegistryError } from './registry-error.js';

export type { RegistrationRequest } from './registration-writer.js';

export const MAX_BATCH = 10_000;

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

interface Job extends ThreadJob {
  resolve: (result: ThreadJobResult) => void;
  reject: (err: unknown) => void;
}

export interface RegistrationServiceOptions {
  /** The HTTP thread's connection: reads earlier registrations shown again as duplicates. */
  store: Store;
  /** Shows an earlier registration (with its proof) when the same content comes again. */
  reader: RegistrationReader;
  /** What the writer thread needs: the database, how to build records, the receipt signer. */
  writer: Omit<WriterThreadData, 'pseudonymKey'> & { pseudonymKey: Buffer };
}

/**
 * Takes registrations and commits them in groups on a writer thread: one group is in the
 * writer at a time, and every request that arrives meanwhile joins the next group. Each caller
 * is answered only after its rows are committed. One transaction per group keeps SQLite at tens
 * of thousands of rows per second where a transaction per row manages a few thousand, and the
 * thread keeps that work, the group's receipt signature and the answers' serialization off
 * the event loop that parses requests and sends answers.
 */
export class RegistrationService {
  private readonly store: Store;
  private readonly reader: RegistrationReader;
  private readonly worker: Worker;
  private readonly ready: Promise<void>;
  private queue: Job[] = [];
  private inFlight: { seq: number; jobs: Job[] } | undefined;
  private seq = 0;
  private closed = false;
  private failure: Error | undefined;

  private constructor(options: RegistrationServiceOptions) {
    this.store = options.store;
    this.reader = options.reader;
    this.worker = startWriterThread(options.writer);
    this.ready = new Promise((resolve, reject) => {
      this.worker.once('message', () => resolve());
      this.worker.once('error', reject);
    });
    this.worker.on('message', (reply: WriterThreadReply) => this.onReply(reply));
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
        return o;
      }),
    };
  }

  /** Registers up to 10,000 entries for `principal`; answers with a summary of each. */
  async registerBatch(principal: Principal, requests: RegistrationRequest[]): Promise<Registered<BatchOutcome>> {
    const { outcomes, receipt } = await this.submitForObjects({ principal, requests, detail: 'summary', asJson: false });
    // Repeats (a directory registered again) are read in one query, not one full view each.
    const earlier = findRegistrationSummaries(this.store, outcomes.flatMap((o) => (o.created ? [] : [o.id])));
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
      this.queue.push({ ...job, resolve, reject });
      this.pump();
    });
  }

  /** Waits for queued registrations to commit, then stops the writer thread. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.inFlight || this.queue.length > 0) {
      if (this.failure) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    await this.worker.terminate();
  }

  private pump(): void {
    if (this.inFlight || this.queue.length === 0) return;
    // Up to MAX_BATCH rows per group; a lone big job still goes whole.
    const jobs: Job[] = [];
    let rows = 0;
    while (this.queue.length > 0 && (jobs.length === 0 || rows + this.queue[0]!.requests.length <= MAX_BATCH)) {
      const job = this.queue.shift()!;
      jobs.push(job);
      rows += job.requests.length;
    }
    this.inFlight = { seq: ++this.seq, jobs };
    this.worker.postMessage({ seq: this.seq, jobs: jobs.map(({ principal, requests, detail, asJson }) => ({ principal, requests, detail, asJson })) });
  }

  private onReply(reply: WriterThreadReply): void {
    const group = this.inFlight;
    if (!group || reply.seq !== group.seq) return; // the ready message, or a reply to nothing
    this.inFlight = undefined;
    this.pump();
    if ('error' in reply) {
      const err = Object.assign(new Error(reply.error.message), reply.error);
      for (const job of group.jobs) job.reject(err);
      return;
    }
    group.jobs.forEach((job, i) => job.resolve(reply.results[i]!));
  }

  private onWorkerGone(err: Error): void {
    if (this.closed && !this.inFlight) return;
    // Without its writer the service cannot register: say so to everyone waiting, and after.
    this.failure ??= err;
    for (const job of [...(this.inFlight?.jobs ?? []), ...this.queue]) job.reject(this.failure);
    this.inFlight = undefined;
    this.queue = [];
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
  if (existsSync(fileURLToPath(js))) return new Worker(js, { workerData: data });
  const ts = new URL('./registration-writer-worker.ts', import.meta.url).href;
  return new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(ts)}); })`, {
    eval: true,
    workerData: data,
  });
}
