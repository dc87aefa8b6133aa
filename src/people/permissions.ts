import type { Principal } from '../registry/principal.js';
import type { UserRole } from '../store/database.js';
import { PeopleError } from './people-error.js';

/**
 * Who may do what: the one place. Every route asks `can`/`authorize` for its action, and the
 * services ask the scoped questions below (which unit, which role), so the API, the CLI and
 * (later) the console cannot disagree.
 *
 * - admin: everything.
 * - registrar (center staff): registers, seals, manages units and their users, reads everything;
 *   not the center's own staff accounts, not audits or replication runs.
 * - auditor (the supervising bureau): reads everything, changes nothing.
 * - unit-admin: registers for its unit, reads its unit's records, manages its unit's users.
 * - clerk: registers for its unit and reads its unit's records.
 * - citizen: registers and reads its own records.
 * Everyone signed in lists and revokes its own tokens and reads its own unit.
 */
export type Action =
  | 'registrations.create'
  | 'registrations.read'
  | 'registrations.read-all'
  | 'periods.seal'
  | 'backup.read'
  | 'backup.run'
  | 'alarms.read'
  | 'tokens.create-account'
  | 'tokens.issue'
  | 'tokens.list'
  | 'tokens.list-all'
  | 'tokens.revoke'
  | 'units.create'
  | 'units.read'
  | 'units.read-all'
  | 'units.update'
  | 'users.create'
  | 'users.read'
  | 'users.update';

export const USER_ROLES: readonly UserRole[] = ['admin', 'registrar', 'auditor', 'unit-admin', 'clerk', 'citizen'];
/** The center's own roles: only an admin makes or changes them. */
export const STAFF_ROLES: readonly UserRole[] = ['admin', 'registrar', 'auditor'];
/** The roles of a unit's users. */
export const UNIT_ROLES: readonly UserRole[] = ['unit-admin', 'clerk'];

const EVERYONE = USER_ROLES;
const DEPOSITORS: readonly UserRole[] = ['admin', 'registrar', 'unit-admin', 'clerk', 'citizen'];

export const PERMISSIONS: Readonly<Record<Action, readonly UserRole[]>> = Object.freeze({
  'registrations.create': DEPOSITORS,
  'registrations.read': EVERYONE,
  'registrations.read-all': ['admin', 'registrar', 'auditor'],
  'periods.seal': ['admin', 'registrar'],
  'backup.read': ['admin', 'registrar', 'auditor'],
  'backup.run': ['admin'],
  'alarms.read': ['admin', 'registrar', 'auditor'],
  'tokens.create-account': ['admin'],
  'tokens.issue': ['admin', 'registrar', 'unit-admin', 'clerk', 'citizen'],
  'tokens.list': EVERYONE,
  'tokens.list-all': ['admin', 'auditor'],
  'tokens.revoke': ['admin', 'registrar', 'unit-admin', 'clerk', 'citizen'],
  'units.create': ['admin', 'registrar'],
  'units.read': EVERYONE,
  'units.read-all': ['admin', 'registrar', 'auditor'],
  'units.update': ['admin', 'registrar'],
  'users.create': ['admin', 'registrar', 'unit-admin'],
  'users.read': ['admin', 'registrar', 'auditor', 'unit-admin'],
  'users.update': ['admin', 'registrar', 'unit-admin'],
});

/** True when `principal`'s role may do `action` at all (scoped checks come after). */
export function can(principal: Pick<Principal, 'role'>, action: Action): boolean {
  return PERMISSIONS[action].includes(principal.role);
}

/** Throws FORBIDDEN (403) unless `principal` may do `action`. */
export function authorize(principal: Pick<Principal, 'role'>, action: Action): void {
  if (!can(principal, action)) {
    throw new PeopleError('FORBIDDEN', `${action} needs the role ${PERMISSIONS[action].join(' or ')}; this user is ${principal.role}`);
  }
}

/** Staff and auditors see every registration; everyone else those of its own account (its unit's). */
export function canSeeAllRegistrations(principal: Pick<Principal, 'role'>): boolean {
  return can(principal, 'registrations.read-all');
}

/**
 * Whether `principal` may make or change a user of `role` in unit `unitId` (null: no unit).
 * FORBIDDEN_ROLE for a role it may not give (a unit-admin making staff, a registrar making an
 * admin); FORBIDDEN for a unit not its own.
 */
export function authorizeUserManagement(principal: Principal, target: { role: UserRole; unitId: number | null }): void {
  if (principal.role === 'admin') return;
  if (principal.role === 'registrar') {
    if (STAFF_ROLES.includes(target.role)) throw new PeopleError('FORBIDDEN_ROLE', `only an admin makes or changes ${target.role} users`);
    return;
  }
  if (principal.role === 'unit-admin') {
    if (!UNIT_ROLES.includes(target.role)) throw new PeopleError('FORBIDDEN_ROLE', `a unit-admin makes only unit-admin and clerk users, not ${target.role}`);
    if (target.unitId === null || target.unitId !== principal.unitId) throw new PeopleError('FORBIDDEN', 'a unit-admin manages only the users of its own unit');
    return;
  }
  throw new PeopleError('FORBIDDEN', `a ${principal.role} manages no users`);
}

/** Whether `principal` may read or act on what belongs to unit `unitId` (its own unit, or all for staff). */
export function canReachUnit(principal: Principal, unitId: number): boolean {
  return can(principal, 'units.read-all') || principal.unitId === unitId;
}
