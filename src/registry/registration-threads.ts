// What the HTTP thread and the registration writer thread say to each other (see
// RegistrationService): a group of jobs one way, each job's result (or the group's error) back.
import type { Receipt } from '../core/receipt.js';
import type { SigningIdentity } from '../pki/cms-signer.js';
import type { WriterJob, WriterOutcome } from './registration-writer.js';

export interface WriterThreadData {
  file: string;
  synchronous: 'FULL' | 'NORMAL';
  centerId: string;
  pseudonymKey: Uint8Array;
  /** Signs each group's receipt (a KeyObject crosses to the thread as it is). */
  receiptSigner: SigningIdentity;
}

/** A job as the threads see it; `asJson`: answer with the HTTP body of its one registration instead of objects. */
export type ThreadJob = WriterJob & { asJson: boolean };

export type WriterThreadRequest = { seq: number; jobs: ThreadJob[] };

/** One job's result: its outcomes and receipt, or the JSON answer of its one registration. */
export type ThreadJobResult = { outcomes: WriterOutcome[]; receipt: Receipt } | { json: string; created: boolean };

/** Every job's result, in order, or why the group failed (the message says whether it was committed). */
export type WriterThreadReply = { seq: number; results: ThreadJobResult[] } | { seq: number; error: ThreadError };

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
