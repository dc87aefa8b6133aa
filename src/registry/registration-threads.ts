// What the HTTP thread and the registration writer thread say to each other (see
// RegistrationService): each job as it arrives one way, each group's results (or the group's
// error) back.
import type { MessagePort } from 'node:worker_threads';
import type { Receipt } from '../core/receipt.js';
import type { SigningIdentity } from '../pki/cms-signer.js';
import type { WriterJob, WriterOutcome } from './registration-writer.js';

/** Most registrations one request (a batch) or one group (one transaction) holds. */
export const MAX_BATCH = 10_000;

export interface WriterThreadData {
  /** Where the jobs arrive: the writer drains it each time it is free, so a group is all that came meanwhile. */
  jobs: MessagePort;
  file: string;
  /** The PostgreSQL database, when the center runs on one (then `file` is not used). */
  url?: string;
  synchronous: 'FULL' | 'NORMAL';
  centerId: string;
  pseudonymKey: Uint8Array;
  /** Signs each group's receipt (a KeyObject crosses to the thread as it is). */
  receiptSigner: SigningIdentity;
}

/** A job as the threads see it; `asJson`: answer with the HTTP body of its one registration instead of objects. */
export type ThreadJob = WriterJob & { asJson: boolean };

export type WriterThreadRequest = { seq: number; job: ThreadJob };

/** One job's result: its outcomes and receipt, or the JSON answer of its one registration. */
export type ThreadJobResult = { outcomes: WriterOutcome[]; receipt: Receipt } | { json: string; created: boolean };

/** A group's jobs (by seq) and each one's result, in order, or why the group failed (the message says whether it was committed). */
export type WriterThreadReply = { seqs: number[]; results: ThreadJobResult[] } | { seqs: number[]; error: ThreadError };

/** An error as it crosses threads (an Error's own fields do not). */
export interface ThreadError {
  name: string;
  message: string;
  code?: string;
}

export function toThreadError(err: unknown): ThreadError {
  const e = err as Error & { code?: string };
  return { name: e.name, message: e.message, ...(e.code !== undefined && { code: e.code }) };
}
