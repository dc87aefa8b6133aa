import { setImmediate as nextTurn } from 'node:timers/promises';
import type { PeriodRow } from '../store/database.js';
import {
  findLastRootBefore,
  findOpenPeriod,
  findPeriod,
  findSealingPeriods,
  insertOpenPeriod,
  markPeriodSealed,
  markPeriodSealing,
} from '../store/periods-repository.js';
import { readLeafHashes } from '../store/registrations-repository.js';
import { deleteTree, insertTreeLevels } from '../store/tree-repository.js';
import type { Store } from '../store/store.js';
import { invariant, RegistryError } from './registry-error.js';
import { buildTreeLevels, HASH_BYTES } from './tree-builder.js';

const ZERO_ROOT = Buffer.alloc(HASH_BYTES);
const READ_RANGE = 65_536; // leaves read per query while loading a period

export interface PeriodSealerOptions {
  store: Store;
  now?: () => Date;
  /** Called after each period is sealed (timestamping and anchoring hang off this). */
  onSealed?: (period: PeriodRow) => void;
}

/**
 * Seals periods in two steps. Closing is one short transaction: the open period stops taking
 * registrations and the next one opens, so whatever arrives from then on goes into the next
 * period. Sealing reads the closed period's leaves, builds its tree and stores root, previous
 * root and levels in one transaction. A crash between the two leaves the period `sealing`,
 * never half-stored; `resume()` at start finishes it the same way.
 */
export class PeriodSealer {
  private readonly store: Store;
  private readonly now: () => Date;
  private readonly onSealed: (period: PeriodRow) => void;
  private running: Promise<unknown> | undefined;

  constructor(options: PeriodSealerOptions) {
    this.store = options.store;
    this.now = options.now ?? (() => new Date());
    this.onSealed = options.onSealed ?? (() => {});
  }

  /** The open period, opening the first one if there is none. */
  ensureOpenPeriod(): PeriodRow {
    return this.store.transaction(
      () => findOpenPeriod(this.store) ?? insertOpenPeriod(this.store, this.now().toISOString()),
    );
  }

  /**
   * Closes the open period and seals it. On demand (`allowEmpty` false) an empty period is
   * refused with NOTHING_TO_SEAL; on schedule it is sealed empty (no root, never anchored).
   */
  seal(options: { allowEmpty: boolean }): Promise<PeriodRow> {
    return this.exclusive(async () => {
      const closedId = this.store.transaction(() => {
        const open = findOpenPeriod(this.store);
        if (!open || (open.leaf_count === 0 && !options.allowEmpty)) {
          throw new RegistryError('NOTHING_TO_SEAL', 'the open period has no registrations to seal');
        }
        const at = this.now().toISOString();
        markPeriodSealing(this.store, open.id, at);
        insertOpenPeriod(this.store, at);
        return open.id;
      });
      await this.finishSealing();
      const sealed = findPeriod(this.store, closedId);
      invariant(sealed?.status === 'sealed', `period ${closedId} not sealed`);
      return sealed;
    });
  }

  /** Finishes every period left closed but unsealed (after a crash), oldest first. */
  async resume(): Promise<PeriodRow[]> {
    await this.idle();
    return this.exclusive(() => this.finishSealing());
  }

  /**
   * Runs `job` unless another seal runs. The job starts synchronously, so a seal's close has
   * committed by the time `seal()` returns: whatever is registered after that call goes into
   * the next period. `running` is cleared before the caller's `await` resumes.
   */
  private exclusive<T>(job: () => Promise<T>): Promise<T> {
    if (this.running) {
      return Promise.reject(new RegistryError('SEAL_IN_PROGRESS', 'a period is being sealed; try again shortly'));
    }
    let release!: () => void;
    this.running = new Promise<void>((resolve) => (release = resolve));
    return (async () => {
      try {
        return await job();
      } finally {
        this.running = undefined;
        release();
      }
    })();
  }

  /** Resolves when no seal is running. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async finishSealing(): Promise<PeriodRow[]> {
    const sealed: PeriodRow[] = [];
    for (const period of findSealingPeriods(this.store)) {
      sealed.push(await this.sealClosedPeriod(period));
    }
    return sealed;
  }

  private async sealClosedPeriod(period: PeriodRow): Promise<PeriodRow> {
    const count = period.leaf_count;
    const levels = count === 0 ? [] : await buildTreeLevels(await this.readLeaves(period.id, count));
    let already = false;
    this.store.transaction(() => {
      // Another process on the same database may have finished it meanwhile: sealed once.
      if (findPeriod(this.store, period.id)?.status === 'sealed') {
        already = true;
        return;
      }
      deleteTree(this.store, period.id); // nothing is stored before this transaction; defensive
      if (count === 0) {
        markPeriodSealed(this.store, period.id, { sealedAt: this.now().toISOString(), root: null, previousRoot: null });
        return;
      }
      insertTreeLevels(this.store, period.id, levels);
      markPeriodSealed(this.store, period.id, {
        sealedAt: this.now().toISOString(),
        root: levels[levels.length - 1]!,
        previousRoot: findLastRootBefore(this.store, period.id) ?? ZERO_ROOT,
      });
    });
    const row = findPeriod(this.store, period.id);
    invariant(row?.status === 'sealed', `period ${period.id} did not seal`);
    if (!already) this.onSealed(row);
    return row;
  }

  private async readLeaves(periodId: number, count: number): Promise<Buffer> {
    const leaves = Buffer.allocUnsafe(count * HASH_BYTES);
    let read = 0;
    for (let from = 0; from < count; from += READ_RANGE) {
      read += readLeafHashes(this.store, periodId, from, Math.min(from + READ_RANGE, count), leaves);
      await nextTurn();
    }
    invariant(read === count, `period ${periodId} has ${read} leaves stored, ${count} counted`);
    return leaves;
  }
}
