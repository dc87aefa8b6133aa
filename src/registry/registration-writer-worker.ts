// The writer thread's entry: one SQLite connection that only writes registrations, so the
// transaction work of each group (records, hashes, index inserts, the WAL sync), the group's
// signed receipt and the answers run beside the HTTP thread instead of in its way. For a single
// registration the answer is the HTTP body itself, so the HTTP thread only sends it.
// Each time it is free the thread takes every job that has come meanwhile as its next group, so it
// never waits for the HTTP thread to hand it one. See RegistrationService.
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { findRegistration } from '../store/registrations-repository.js';
import { Store } from '../store/store.js';
import { ReceiptSigner } from './receipt-signer.js';
import { RegistrationReader } from './registration-reader.js';
import { pendingViewJson } from './registration-view.js';
import { MAX_BATCH, toThreadError, type ThreadJob, type ThreadJobResult, type WriterThreadData, type WriterThreadReply, type WriterThreadRequest } from './registration-threads.js';
import { RegistrationWriter, type WriterOutcome } from './registration-writer.js';
import { RegistryError } from './registry-error.js';

/**
 * When a commit checkpoints the log: after SQLite's 1,000 pages (4 MiB) while groups are small
 * (single registrations), after 10,000 (~40 MiB) while they are batches. A batch of 10,000 rows
 * writes more than 1,000 pages, so at the default every batch paid a checkpoint: on a million
 * rows, copying nearly every page of the duplicate index again and an fsync of the database of
 * 25 ms (strace). Fewer checkpoints copy each page rewritten meanwhile once. Batch route, five
 * interleaved pairs of 1.2M rows: 174.8 s against 189.5 s in all (the last 400,000 rows of each
 * run 30,400 rows/s against 26,900 on average). Single registrations keep the small threshold:
 * with 10,000 on a million rows, each checkpoint stalled the writer long enough to take the
 * single route's p99 from 21-29 ms to 76-79 ms.
 */
const CHECKPOINT_PAGES = { small: 1_000, batch: 10_000 } as const;
/** Rows from which a group counts as a batch for {@link CHECKPOINT_PAGES}. */
const BATCH_GROUP_ROWS = 1_000;

if (parentPort) {
  const port = parentPort;
  const data = workerData as WriterThreadData;
  const store = Store.openConnection({ file: data.file, url: data.url, synchronous: data.synchronous });
  let checkpointPages: number = CHECKPOINT_PAGES.small; // SQLite's default
  const checkpointFor = (rows: number) => {
    const pages = rows >= BATCH_GROUP_ROWS ? CHECKPOINT_PAGES.batch : CHECKPOINT_PAGES.small;
    if (pages !== checkpointPages) store.setWalAutocheckpoint((checkpointPages = pages));
  };
  const writer = new RegistrationWriter({ store, centerId: data.centerId, pseudonymKey: Buffer.from(data.pseudonymKey) });
  const receipts = new ReceiptSigner(data.centerId, data.receiptSigner);
  const reader = new RegistrationReader(store);
  /** Jobs arrive, and replies go back, through this port. */
  const channel = data.jobs;
  const leafOf = (o: WriterOutcome): string => ('registration' in o ? o.registration.leafHash : o.created ? o.summary.leafHash : o.leafHash);
  /** The JSON of a single registration's view: a new one's from its record's text, a repeat's read again. */
  const viewJson = (outcome: WriterOutcome): string => {
    if ('recordJson' in outcome) return pendingViewJson(outcome.registration, outcome.recordJson);
    if (!outcome.created) return JSON.stringify(reader.viewOf(findRegistration(store, outcome.id)!));
    throw new Error('a single registration was answered with a summary');
  };

  const answer = (jobs: ThreadJob[], receivedAt: string, outcomes: WriterOutcome[][]): ThreadJobResult[] => {
    // Signed only after the commit: a receipt never speaks for registrations not yet durable.
    const signed = receipts.sign(receivedAt, outcomes.map((job) => job.map(leafOf)));
    // The receipt's shared part (its signature alone is ~2.7 KB) is serialized once per group.
    let sharedReceiptJson: string | undefined;
    return outcomes.map((jobOutcomes, i): ThreadJobResult => {
      const receipt = signed[i]!;
      if (!jobs[i]!.asJson) return { outcomes: jobOutcomes, receipt };
      const { proof, ...shared } = receipt;
      sharedReceiptJson ??= JSON.stringify(shared).slice(0, -1);
      // What JSON.stringify({ ...view, receipt }) gives (see pendingViewJson); a JSON job has one registration.
      const outcome = jobOutcomes[0]!;
      return { created: outcome.created, json: `${viewJson(outcome).slice(0, -1)},"receipt":${sharedReceiptJson},"proof":${JSON.stringify(proof)}}}` };
    });
  };

  /** Commits a group and posts its reply (or, when it cannot be committed, each job's, see below). */
  const commitGroup = (group: WriterThreadRequest[], rows: number): void => {
    const seqs = group.map((r) => r.seq);
    const jobs = group.map((r) => r.job);
    let committed: ReturnType<RegistrationWriter['commit']>;
    try {
      checkpointFor(rows);
      committed = writer.commit(jobs);
    } catch (err) {
      if (group.length > 1) {
        // Nothing of the group was written. One caller's request that the writer cannot take
        // must not fail the others that happened to share its transaction: each job again
        // alone, so only those that fail by themselves are refused.
        for (const one of group) commitGroup([one], one.job.requests.length);
        return;
      }
      // A refusal (a repeat that contradicts its registration) reaches the caller as it is.
      const message = err instanceof RegistryError ? err.message : `registration not committed: ${(err as Error).message}`;
      channel.postMessage({ seqs, error: { ...toThreadError(err), message } } satisfies WriterThreadReply);
      return;
    }
    let reply: WriterThreadReply;
    try {
      reply = { seqs, results: answer(jobs, committed.receivedAt, committed.outcomes) };
    } catch (err) {
      reply = { seqs, error: { ...toThreadError(err), message: `registration committed, but not answered: ${(err as Error).message}` } };
    }
    channel.postMessage(reply);
  };

  channel.on('message', (first: WriterThreadRequest) => {
    const waiting = [first];
    for (let next = receiveMessageOnPort(channel); next !== undefined; next = receiveMessageOnPort(channel)) {
      waiting.push(next.message as WriterThreadRequest);
    }
    // Groups of up to MAX_BATCH rows (no single job is larger: the service refuses those).
    for (let start = 0; start < waiting.length; ) {
      let end = start + 1;
      let rows = waiting[start]!.job.requests.length;
      while (end < waiting.length && rows + waiting[end]!.job.requests.length <= MAX_BATCH) rows += waiting[end++]!.job.requests.length;
      commitGroup(waiting.slice(start, end), rows);
      start = end;
    }
  });
  port.postMessage({ ready: true });
}
