import { createRequire } from 'node:module';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';

/**
 * One PostgreSQL session (a `pg` client) that the calling thread uses synchronously.
 *
 * The store's contract is synchronous (see Store): a transaction is one synchronous function, so
 * nothing else on the event loop interleaves with it and no transaction is left open across an
 * `await`. On SQLite the driver is synchronous; on PostgreSQL the `pg` client runs on its own
 * thread and the calling thread waits for each answer with `Atomics.wait` (the pattern of
 * `synckit`). The cost is one thread hop per statement (tens of microseconds) on top of the
 * round trip to the server; the hot paths send many rows per statement instead of one statement
 * per row (registrations-repository.ts).
 *
 * While a statement runs the calling thread is blocked: `statement_timeout` bounds it, and the
 * wait gives up a little after that.
 */
export class PgSyncConnection {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly state: Int32Array;
  private closed = false;
  private seq = 0;

  constructor(
    readonly url: string,
    private readonly options: { statementTimeoutMs?: number; applicationName?: string } = {},
  ) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.state = new Int32Array(new SharedArrayBuffer(4));
    const pgPath = createRequire(import.meta.url).resolve('pg');
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      // Plain Node: a loader the parent runs under (tsx in tests) would start its hooks on a
      // thread that waits for this one, which is blocked in Atomics.wait: a deadlock.
      execArgv: [],
      workerData: {
        pgPath,
        url,
        port: port2,
        state: this.state,
        statementTimeoutMs: options.statementTimeoutMs ?? 60_000,
        applicationName: options.applicationName ?? 'archive-seal',
      },
      transferList: [port2],
    });
    // The thread does nothing on its own: it must not keep a finished process alive.
    this.worker.unref();
    this.port.unref();
    this.call({ connect: true });
  }

  /** Runs one statement (`$1`-style parameters); rows as objects, or first columns when `pluck`. */
  query(sql: string, params: readonly unknown[], pluck = false): { rows: any[]; rowCount: number } {
    return this.call({ sql, params, pluck }) as { rows: any[]; rowCount: number };
  }

  /** Ends the session (an open transaction is rolled back by the server). */
  close(): void {
    if (this.closed) return;
    try {
      this.call({ end: true });
    } catch {
      // Already gone: nothing to end.
    }
    this.closed = true;
    void this.worker.terminate();
  }

  private call(request: object): unknown {
    if (this.closed) throw new Error('the PostgreSQL connection is closed');
    // Each request carries a number; the thread writes the number it has answered into `state`
    // and the answer carries it too. The caller waits for its own number and takes its own
    // answer, so an answer is never taken for another's (one seen arriving after the wake-up
    // it was posted before: the port is read until it is there).
    const seq = (this.seq = (this.seq % 0x7fffffff) + 1);
    this.port.postMessage({ ...request, seq });
    const limit = (this.options.statementTimeoutMs ?? 60_000) + 30_000;
    const deadline = Date.now() + limit;
    const giveUp = () => {
      this.closed = true;
      void this.worker.terminate();
      return new Error(`PostgreSQL did not answer within ${limit} ms`);
    };
    for (let seen = Atomics.load(this.state, 0); seen !== seq; seen = Atomics.load(this.state, 0)) {
      if (Atomics.wait(this.state, 0, seen, Math.max(1, deadline - Date.now())) === 'timed-out' && Atomics.load(this.state, 0) !== seq) throw giveUp();
    }
    let reply: ({ ok: true; result: any } | { ok: false; error: PgErrorFields }) & { seq: number };
    for (;;) {
      const message = receiveMessageOnPort(this.port)?.message as typeof reply | undefined;
      if (message?.seq === seq) {
        reply = message;
        break;
      }
      if (message) continue; // an answer to an earlier request whose caller stopped waiting
      if (Date.now() > deadline) throw giveUp();
      Atomics.wait(PAUSE, 0, 0, 1);
    }
    if (!reply.ok) throw toError(reply.error);
    const result = reply.result;
    if (result?.rows) {
      const rows = result.rows as any[];
      if (result.pluck) for (let i = 0; i < rows.length; i++) rows[i] = asBuffer(rows[i]);
      else for (const row of rows) for (const key in row) row[key] = asBuffer(row[key]);
    }
    return result;
  }
}

/** A word nobody changes: `Atomics.wait` on it is a 1 ms pause. */
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

interface PgErrorFields {
  message: string;
  code?: string;
  detail?: string;
  constraint?: string;
  fatal?: boolean;
}

/** A PostgreSQL error as the caller sees it: its SQLSTATE in `code` (e.g. 23505 unique violation). */
export class PgError extends Error {
  readonly code: string | undefined;
  readonly constraint: string | undefined;
  constructor(fields: PgErrorFields) {
    super(fields.detail ? `${fields.message} (${fields.detail})` : fields.message);
    this.name = 'PgError';
    this.code = fields.code;
    this.constraint = fields.constraint;
  }
}

function toError(fields: PgErrorFields): Error {
  return new PgError(fields);
}

/** bytea values cross the thread as Uint8Array; the store's callers expect Buffer (as from SQLite). */
function asBuffer(v: unknown): unknown {
  return v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v;
}

/**
 * The thread: a `pg` client whose numbers and booleans read back as SQLite's do (int8 and numeric
 * as JavaScript numbers: every integer the center stores is below 2^53; booleans as 1/0).
 */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { pgPath, url, port, state, statementTimeoutMs, applicationName } = workerData;
let client;
let fatal;
let pg;
let types;
try {
  pg = require(pgPath);
  types = new pg.TypeOverrides();
  types.setTypeParser(20, (v) => Number(v));
  types.setTypeParser(1700, (v) => Number(v));
  types.setTypeParser(16, (v) => (v === 't' ? 1 : 0));
} catch (err) {
  // Said to the caller at its first statement (it is waiting and cannot see an 'error' event).
  fatal = err;
}
const reply = (seq, message) => {
  port.postMessage({ ...message, seq });
  Atomics.store(state, 0, seq);
  Atomics.notify(state, 0);
};
const errorOf = (err) => ({
  message: String(err && err.message || err),
  code: err && err.code,
  detail: err && err.detail,
  constraint: err && err.constraint,
});
port.on('message', async (req) => {
  const seq = req.seq;
  try {
    if (fatal) throw fatal;
    if (req.connect) {
      client = new pg.Client({ connectionString: url, types, statement_timeout: statementTimeoutMs, application_name: applicationName });
      client.on('error', (err) => { fatal = err; });
      await client.connect();
      reply(seq, { ok: true, result: null });
      return;
    }
    if (req.end) {
      await client.end();
      reply(seq, { ok: true, result: null });
      return;
    }
    const answer = await client.query({ text: req.sql, values: req.params.length > 0 ? req.params : undefined, rowMode: req.pluck ? 'array' : undefined });
    // Several statements in one text (no parameters) answer each: the last one's rows count.
    const res = Array.isArray(answer) ? answer[answer.length - 1] : answer;
    const rows = req.pluck ? res.rows.map((r) => r[0]) : res.rows;
    reply(seq, { ok: true, result: { rows, rowCount: res.rowCount ?? 0, pluck: req.pluck } });
  } catch (err) {
    reply(seq, { ok: false, error: errorOf(err) });
  }
});
`;
