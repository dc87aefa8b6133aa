// The writer thread's entry: one SQLite connection that only writes registrations, so the
// transaction work of each group (records, hashes, index inserts, the WAL sync) runs beside the
// HTTP thread instead of in its way. See RegistrationService.
import { parentPort, workerData } from 'node:worker_threads';
import { findRegistration } from '../store/registrations-repository.js';
import { Store } from '../store/store.js';
import { RegistrationWriter, type WriterJob, type WriterOutcome } from './registration-writer.js';

export interface WriterThreadData {
  file: string;
  synchronous: 'FULL' | 'NORMAL';
  centerId: string;
  pseudonymKey: Uint8Array;
}

export type WriterThreadRequest = { seq: number; jobs: WriterJob[] };
export type WriterThreadReply =
  /** `leaves[i]`: the leaf (hex) of each of job i's registrations, for its receipt. */
  | { seq: number; receivedAt: string; outcomes: WriterOutcome[][]; leaves: string[][] }
  | { seq: number; error: { name: string; message: string; code?: string } };

if (parentPort) {
  const port = parentPort;
  const data = workerData as WriterThreadData;
  const store = Store.openConnection({ file: data.file, synchronous: data.synchronous });
  const writer = new RegistrationWriter({ store, centerId: data.centerId, pseudonymKey: Buffer.from(data.pseudonymKey) });
  // The leaf of each outcome: new ones carry it, repeats are read back.
  const leafOf = (o: WriterOutcome): string => {
    if (!o.created) return findRegistration(store, o.id)!.leaf_hash.toString('hex');
    return 'registration' in o ? o.registration.leafHash : o.summary.leafHash;
  };
  port.on('message', (request: WriterThreadRequest) => {
    let reply: WriterThreadReply;
    try {
      const { receivedAt, outcomes } = writer.commit(request.jobs);
      reply = { seq: request.seq, receivedAt, outcomes, leaves: outcomes.map((job) => job.map(leafOf)) };
    } catch (err) {
      const e = err as Error & { code?: string };
      reply = { seq: request.seq, error: { name: e.name, message: e.message, ...(e.code !== undefined && { code: e.code }) } };
    }
    port.postMessage(reply);
  });
  port.postMessage({ seq: 0, ready: true });
}
