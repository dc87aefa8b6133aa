import type { UserRole } from '../store/database.js';

/**
 * Who is asking: a user (signed in, or through one of its API tokens), and the account it
 * registers as. For a unit's users that account is the unit's, so their records name the unit
 * and every user of the unit sees them.
 */
export interface Principal {
  /** The account registrations are made as (the registrant). */
  accountId: number;
  /** The registrant's name as records carry it. */
  name: string;
  /** The user's role: what it may do (src/people/permissions.ts). */
  role: UserRole;
  pseudonymous: boolean;
  /** The user; absent for the center acting on its own (an export, a test's registrar). */
  userId?: number;
  username?: string;
  /** The user's unit (unit-admin, clerk); null or absent for staff, auditors and citizens. */
  unitId?: number | null;
}
