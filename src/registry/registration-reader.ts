import { findPeriod } from '../store/periods-repository.js';
import { findRegistration, listRegistrations } from '../store/registrations-repository.js';
import type { RegistrationRow } from '../store/database.js';
import type { Store } from '../store/store.js';
import { canSeeAllRegistrations } from '../people/permissions.js';
import type { Principal } from './principal.js';
import { ProofReader } from './proof-reader.js';
import { RegistryError } from './registry-error.js';
import { toRegistrationView, type RegistrationView } from './registration-view.js';

/** Reads registrations as their owners and staff may see them, with proofs once sealed. */
export class RegistrationReader {
  private readonly proofs: ProofReader;

  constructor(private readonly store: Store) {
    this.proofs = new ProofReader(store);
  }

  /**
   * The registration `id` if `principal` may see it. Someone asking for another account's (another unit's)
   * gets NOT_FOUND, as for an id that does not exist: ids must not reveal who registered what.
   */
  get(principal: Principal, id: number): RegistrationView {
    const row = findRegistration(this.store, id);
    if (!row || !(canSeeAllRegistrations(principal) || row.registrant_id === principal.accountId)) {
      throw new RegistryError('NOT_FOUND', `no registration ${id}`);
    }
    return this.viewOf(row);
  }

  /** The view of a row, with its proof when the period is sealed. */
  viewOf(row: RegistrationRow, pageChunks?: Map<number, Buffer | undefined>): RegistrationView {
    const period = findPeriod(this.store, row.period_id);
    if (period?.status === 'sealed' && period.root) {
      return toRegistrationView(row, period, this.proofs.proofOf(period.id, period.leaf_count, row.leaf_index, pageChunks));
    }
    return toRegistrationView(row, period);
  }

  /** Newest first (of one content, with `sha256`); a depositor sees only its own. */
  list(principal: Principal, options: { limit: number; before?: number; periodId?: number; sha256?: Buffer }): RegistrationView[] {
    const rows = listRegistrations(this.store, {
      ...options,
      ...(!canSeeAllRegistrations(principal) && { registrantId: principal.accountId }),
    });
    const pageChunks = new Map<number, Buffer | undefined>(); // the page's rows are neighbours: see ProofReader
    return rows.map((row) => this.viewOf(row, pageChunks));
  }
}
