import { createHmac, hash, randomBytes } from 'node:crypto';
import { canonicalize } from '../core/canonical-json.js';
import { SALT_BYTES } from '../core/merkle.js';
import { RECORD_FORMAT, type RegistrationRecord, type Registrant } from '../core/record.js';
import type { RegistrationRow } from '../store/database.js';
import { findOpenPeriod, insertOpenPeriod } from '../store/periods-repository.js';
import { findSameRegistrations, insertRegistrations, maxRegistrationId, sameKey, sha256Key, type SameRegistration } from '../store/registrations-repository.js';
import type { Store } from '../store/store.js';
import type { Principal } from './principal.js';
import type { RegistrationInput } from './registration-input.js';
import { toRegistrationView, type RegistrationView } from './registration-view.js';
import { RegistryError } from './registry-error.js';
import { saltedLeaf } from './tree-builder.js';


export interface RegistrationRequest extends RegistrationInput {
  /** True when the center holds the original (uploaded), false for hash-only. */
  hasFile: boolean;
}

/** One caller's registrations, as the writer receives them. */
export interface WriterJob {
  principal: Principal;
  requests: RegistrationRequest[];
  /** `full`: the whole view of each new registration; `summary`: its id, period and time only. */
  detail: 'full' | 'summary';
}

/** What a batch answer lists for each entry. */
export interface RegistrationSummary {
  id: number;
  periodId: number;
  registeredAt: string;
  leafHash: string;
}

/**
 * A new registration (its view and its record's canonical JSON, or its summary when the job
 * asked for one), or the id of the same registrant's earlier registration of the same content.
 */
export type WriterOutcome =
  | { created: true; registration: RegistrationView; recordJson: string }
  | { created: true; summary: RegistrationSummary }
  | { created: false; id: number; leafHash: string };

export interface RegistrationWriterOptions {
  store: Store;
  centerId: string;
  /** Key of the pseudonyms given to private registrants (HMAC-SHA-256 of their account id). */
  pseudonymKey: Buffer;
  now?: () => Date;
}

/**
 * Writes groups of registrations, each group in one transaction: assigns ids, the registered-at
 * time, the open period and leaf indexes, builds each record, its canonical bytes, digest,
 * salt and leaf. Synchronous; it runs on the writer thread (see registration-writer-thread.ts).
 */
export class RegistrationWriter {
  private readonly store: Store;
  private readonly centerId: string;
  private readonly pseudonymKey: Buffer;
  private readonly now: () => Date;

  constructor(options: RegistrationWriterOptions) {
    this.store = options.store;
    this.centerId = options.centerId;
    this.pseudonymKey = options.pseudonymKey;
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Commits all jobs in one transaction; outcomes in the jobs' and requests' order, and the time
   * the group was received (every new registration's registered-at).
   */
  commit(jobs: readonly WriterJob[]): { receivedAt: string; outcomes: WriterOutcome[][] } {
    const receivedAt = this.now().toISOString();
    return { receivedAt, outcomes: this.store.transaction(() => this.commitInTransaction(jobs, receivedAt)) };
  }

  private commitInTransaction(jobs: readonly WriterJob[], registeredAt: string): WriterOutcome[][] {
    const period = findOpenPeriod(this.store) ?? insertOpenPeriod(this.store, registeredAt);
    let nextId = maxRegistrationId(this.store) + 1;
    let leafIndex = period.leaf_count;
    const rowCount = jobs.reduce((n, j) => n + j.requests.length, 0);
    const salts = randomBytes(SALT_BYTES * rowCount);
    let saltOffset = 0;
    // Within one group the same content by the same registrant must resolve to one row too.
    const createdInGroup = new Map<string, SameRegistration>();

    // The duplicate look-up for the whole group first (one statement on PostgreSQL), then the rows,
    // inserted together at the end.
    const digests = jobs.map((job) => job.requests.map((request) => Buffer.from(request.sha256, 'hex')));
    const lookupKeys = digests.map((d) => d.map((sha256) => sha256Key(sha256)));
    const earlierRegistrations = findSameRegistrations(
      this.store,
      jobs.flatMap((job, j) => digests[j]!.map((sha256, i) => ({ registrantId: job.principal.accountId, sha256, key: lookupKeys[j]![i]! }))),
    );
    const rows: RegistrationRow[] = [];

    const outcomes = jobs.map((job, j) => {
      const registrant = this.registrantOf(job.principal); // an HMAC for a private registrant: once per job
      return job.requests.map((request, index): WriterOutcome => {
        const sha256 = digests[j]![index]!;
        const key = `${job.principal.accountId}:${request.sha256}`;
        const lookupKey = lookupKeys[j]![index]!;
        const earlier = createdInGroup.get(key) ?? earlierRegistrations.get(sameKey(job.principal.accountId, sha256));
        if (earlier !== undefined) {
          checkConsistent(earlier, request, job.requests.length > 1 ? `entries[${index}]: ` : '');
          return { created: false, id: earlier.id, leafHash: earlier.leafHash };
        }

        const id = nextId++;
        const record = this.buildRecord(id, registeredAt, registrant, request);
        const canonical = canonicalize(record);
        // Hex output: node:crypto's one-shot hash makes a Buffer at twice the cost of a string.
        const recordDigest = Buffer.from(hash('sha256', canonical, 'hex'), 'hex');
        const salt = salts.subarray(saltOffset, (saltOffset += SALT_BYTES));
        const leaf = saltedLeaf(salt, recordDigest);
        const row: RegistrationRow = {
          id,
          period_id: period.id,
          leaf_index: leafIndex++,
          registrant_id: job.principal.accountId,
          sha256,
          sha256_key: lookupKey,
          sm3: request.sm3 !== undefined ? Buffer.from(request.sm3, 'hex') : null,
          size: request.size ?? null,
          has_file: request.hasFile ? 1 : 0,
          record: canonical,
          record_digest: recordDigest,
          salt,
          leaf_hash: leaf,
          registered_at: registeredAt,
        };
        rows.push(row);
        const leafHash = leaf.toString('hex');
        createdInGroup.set(key, { id, leafHash, hasFile: request.hasFile, ...(request.sm3 !== undefined && { sm3: request.sm3 }), ...(request.size !== undefined && { size: request.size }) });
        // A batch answer lists ids only: ten thousand full views would cost the HTTP thread more
        // to receive than the writer spends committing them.
        return job.detail === 'full'
          ? { created: true, registration: toRegistrationView(row, period, undefined, record), recordJson: canonical }
          : { created: true, summary: { id, periodId: period.id, registeredAt, leafHash } };
      });
    });
    insertRegistrations(this.store, rows);
    if (leafIndex !== period.leaf_count) {
      this.store.prepare('UPDATE period SET leaf_count = ? WHERE id = ?').run(leafIndex, period.id);
    }
    return outcomes;
  }

  /** The record, its members written in sorted order so that canonicalize takes its fast path. */
  private buildRecord(id: number, registeredAt: string, registrant: Registrant, request: RegistrationRequest): RegistrationRecord {
    return {
      category: request.category,
      center: this.centerId,
      deposit: request.hasFile ? 'file' : 'hash-only',
      digests: { sha256: request.sha256, ...(request.sm3 !== undefined && { sm3: request.sm3 }) },
      ...(request.fileName !== undefined && { fileName: request.fileName }),
      format: RECORD_FORMAT,
      ...(request.mediaType !== undefined && { mediaType: request.mediaType }),
      ...(request.metadata !== undefined && { metadata: request.metadata }),
      registeredAt,
      registrant,
      registrationId: id,
      ...(request.size !== undefined && { size: request.size }),
      ...(request.title !== undefined && { title: request.title }),
    };
  }

  private registrantOf(principal: Principal): Registrant {
    if (!principal.pseudonymous) return { id: `account:${principal.accountId}`, name: principal.name };
    const mac = createHmac('sha256', this.pseudonymKey).update(`account:${principal.accountId}`).digest('hex');
    return { pseudonym: `anon:${mac.slice(0, 32)}` };
  }
}

/**
 * A repeat must describe the same content as the registration it repeats: a SHA-256 already
 * registered with another SM3 or size means one of the two is wrong, and answering with the earlier
 * registration would pass over it in silence. Refused (409), and the whole job with it: a batch
 * is all or nothing.
 */
function checkConsistent(earlier: SameRegistration, request: RegistrationRequest, where: string): void {
  const differs = (what: string, before: string | number | undefined, now: string | number | undefined) => {
    if (before === undefined || now === undefined || before === now) return;
    throw new RegistryError(
      'DIGEST_CONFLICT',
      `${where}registration ${earlier.id} of the content with SHA-256 ${request.sha256} gives its ${what} as ${before}, not ${now}`,
    );
  };
  differs('SM3', earlier.sm3, request.sm3);
  differs('size', earlier.size, request.size);
}
