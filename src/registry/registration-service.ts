import { createHmac, hash, randomBytes } from 'node:crypto';
import { canonicalize } from '../core/canonical-json.js';
import { RECORD_FORMAT, type RegistrationRecord, type Registrant } from '../core/record.js';
import type { RegistrationRow } from '../store/database.js';
import { findOpenPeriod, insertOpenPeriod } from '../store/periods-repository.js';
import {
  findRegistration,
  findSameRegistrationId,
  insertRegistration,
  maxRegistrationId,
} from '../store/registrations-repository.js';
import type { Store } from '../store/store.js';
import type { Principal } from './principal.js';
import type { RegistrationReader } from './registration-reader.js';
import type { RegistrationInput } from './registration-input.js';
import { invariant, RegistryError } from './registry-error.js';
import { toRegistrationView, type RegistrationView } from './registration-view.js';

export const MAX_BATCH = 10_000;
const SALT_BYTES = 32;
const LEAF_PREFIX = Buffer.from([0x00]); // RFC 6962 §2.1 leaf domain separation

export interface RegistrationRequest extends RegistrationInput {
  /** True when the center holds the original (uploaded), false for hash-only. */
  hasFile: boolean;
}

export interface RegistrationOutcome {
  registration: RegistrationView;
  /** False when the same registrant had already registered the same content. */
  created: boolean;
}

interface Job {
  principal: Principal;
  requests: RegistrationRequest[];
  resolve: (outcomes: RegistrationOutcome[]) => void;
  reject: (err: unknown) => void;
}

export interface RegistrationServiceOptions {
  store: Store;
  centerId: string;
  /** Key of the pseudonyms given to private registrants (HMAC-SHA-256 of their account id). */
  pseudonymKey: Buffer;
  /** Shows an earlier registration (with its proof) when the same content comes again. */
  reader: RegistrationReader;
  now?: () => Date;
}

/**
 * Takes registrations and commits them in groups: every request that arrives while a commit
 * runs joins the next one, and each caller is answered only after its rows are committed.
 * One transaction per group keeps SQLite at tens of thousands of rows per second where a
 * transaction per row manages a few thousand.
 */
export class RegistrationService {
  private readonly store: Store;
  private readonly centerId: string;
  private readonly pseudonymKey: Buffer;
  private readonly now: () => Date;
  private readonly reader: RegistrationReader;
  private queue: Job[] = [];
  private scheduled = false;

  constructor(options: RegistrationServiceOptions) {
    this.store = options.store;
    this.centerId = options.centerId;
    this.pseudonymKey = options.pseudonymKey;
    this.now = options.now ?? (() => new Date());
    this.reader = options.reader;
  }

  /** Registers `requests` (1 to 10,000) for `principal`; answers once they are committed. */
  register(principal: Principal, requests: RegistrationRequest[]): Promise<RegistrationOutcome[]> {
    if (requests.length === 0) return Promise.reject(new RegistryError('EMPTY_BATCH', 'nothing to register'));
    if (requests.length > MAX_BATCH) {
      return Promise.reject(new RegistryError('BATCH_TOO_LARGE', `at most ${MAX_BATCH} registrations per request`));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ principal, requests, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0) {
      // Group jobs up to MAX_BATCH rows per transaction (a lone big job still goes whole).
      const group: Job[] = [];
      let rows = 0;
      while (this.queue.length > 0 && (group.length === 0 || rows + this.queue[0]!.requests.length <= MAX_BATCH)) {
        const job = this.queue.shift()!;
        group.push(job);
        rows += job.requests.length;
      }
      let outcomes: RegistrationOutcome[][];
      try {
        outcomes = this.store.transaction(() => this.commitGroup(group, rows));
      } catch (err) {
        for (const job of group) job.reject(err);
        continue;
      }
      group.forEach((job, i) => job.resolve(outcomes[i]!));
    }
  }

  private commitGroup(group: Job[], rowCount: number): RegistrationOutcome[][] {
    const period = findOpenPeriod(this.store) ?? insertOpenPeriod(this.store, this.now().toISOString());
    const registeredAt = this.now().toISOString();
    let nextId = maxRegistrationId(this.store) + 1;
    let leafIndex = period.leaf_count;
    const salts = randomBytes(SALT_BYTES * rowCount);
    let saltOffset = 0;
    // Within one group the same content by the same registrant must resolve to one row too.
    const createdInGroup = new Map<string, RegistrationView>();

    const outcomes = group.map((job) =>
      job.requests.map((request): RegistrationOutcome => {
        const sha256 = Buffer.from(request.sha256, 'hex');
        const key = `${job.principal.accountId}:${request.sha256}`;
        const inGroup = createdInGroup.get(key);
        if (inGroup) return { registration: inGroup, created: false };
        const existingId = findSameRegistrationId(this.store, job.principal.accountId, sha256);
        if (existingId !== undefined) return { registration: this.viewOf(existingId), created: false };

        const id = nextId++;
        const record = this.buildRecord(id, registeredAt, job.principal, request);
        const canonical = canonicalize(record);
        const recordDigest = hash('sha256', canonical, 'buffer');
        const salt = salts.subarray(saltOffset, (saltOffset += SALT_BYTES));
        const leaf = hash('sha256', Buffer.concat([LEAF_PREFIX, salt, recordDigest]), 'buffer');
        const row: RegistrationRow = {
          id,
          period_id: period.id,
          leaf_index: leafIndex++,
          registrant_id: job.principal.accountId,
          sha256,
          sm3: request.sm3 !== undefined ? Buffer.from(request.sm3, 'hex') : null,
          size: request.size ?? null,
          has_file: request.hasFile ? 1 : 0,
          record: canonical,
          record_digest: recordDigest,
          salt,
          leaf_hash: leaf,
          registered_at: registeredAt,
        };
        insertRegistration(this.store, row);
        const view = toRegistrationView(row, period);
        createdInGroup.set(key, view);
        return { registration: view, created: true };
      }),
    );
    if (leafIndex !== period.leaf_count) {
      this.store.prepare('UPDATE period SET leaf_count = ? WHERE id = ?').run(leafIndex, period.id);
    }
    return outcomes;
  }

  private viewOf(id: number): RegistrationView {
    const row = findRegistration(this.store, id);
    invariant(row, `registration ${id} vanished`);
    return this.reader.viewOf(row);
  }

  private buildRecord(id: number, registeredAt: string, principal: Principal, request: RegistrationRequest): RegistrationRecord {
    return {
      format: RECORD_FORMAT,
      center: this.centerId,
      registrationId: id,
      registeredAt,
      registrant: this.registrantOf(principal),
      category: request.category,
      ...(request.title !== undefined && { title: request.title }),
      ...(request.fileName !== undefined && { fileName: request.fileName }),
      ...(request.size !== undefined && { size: request.size }),
      ...(request.mediaType !== undefined && { mediaType: request.mediaType }),
      digests: { sha256: request.sha256, ...(request.sm3 !== undefined && { sm3: request.sm3 }) },
      deposit: request.hasFile ? 'file' : 'hash-only',
      ...(request.metadata !== undefined && { metadata: request.metadata }),
    };
  }

  private registrantOf(principal: Principal): Registrant {
    if (!principal.pseudonymous) return { id: `account:${principal.accountId}`, name: principal.name };
    const mac = createHmac('sha256', this.pseudonymKey).update(`account:${principal.accountId}`).digest('hex');
    return { pseudonym: `anon:${mac.slice(0, 32)}` };
  }
}
