import type { Role } from '../store/database.js';

/** Who is asking: the account behind a bearer token. */
export interface Principal {
  accountId: number;
  name: string;
  role: Role;
  pseudonymous: boolean;
}

/** Staff (admin, registrar) see every registration; a depositor only its own. */
export function canSeeAllRegistrations(principal: Principal): boolean {
  return principal.role === 'admin' || principal.role === 'registrar';
}
