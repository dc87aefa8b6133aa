import { userTextProblem } from '../core/user-text.js';
import type { Principal } from '../registry/principal.js';
import { insertAccount, setAccountRole } from '../store/accounts-repository.js';
import type { AppUserRow, Role, UserRole } from '../store/database.js';
import type { Store } from '../store/store.js';
import { findUnitById } from '../store/units-repository.js';
import { endSessionsOfUser, findUserById, findUserByUsername, insertUser, listUsers, updateUser, type UserChanges } from '../store/users-repository.js';
import { hashPassword, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from './passwords.js';
import { authorize, authorizeUserManagement, can, UNIT_ROLES, USER_ROLES } from './permissions.js';
import { PeopleError, validatePeople } from './people-error.js';

const USERNAME = /^[a-z0-9][a-z0-9._-]{2,63}$/;
const MAX_DISPLAY_NAME_LENGTH = 200;
/** The kind of account a user of each role (other than a unit's) registers as. */
const ACCOUNT_ROLE: Readonly<Record<UserRole, Role>> = {
  admin: 'admin',
  registrar: 'registrar',
  auditor: 'auditor',
  citizen: 'depositor',
  'unit-admin': 'depositor',
  clerk: 'depositor',
};

/** A user as the API shows it (never its password hash). */
export interface UserView {
  id: number;
  username: string;
  displayName: string;
  role: UserRole;
  unitId: number | null;
  accountId: number;
  status: 'active' | 'suspended';
  hasPassword: boolean;
  lockedUntil: string | null;
  createdAt: string;
}

/**
 * Named users: admins make anyone; registrars make unit users and citizens; a unit-admin makes
 * and changes only its own unit's unit-admins and clerks (FORBIDDEN_ROLE for anything else).
 */
export class UserService {
  constructor(
    private readonly store: Store,
    /** Called after a change that alters what a principal stands for (role, suspension). */
    private readonly onChange: () => void = () => {},
  ) {}

  async create(principal: Principal, body: unknown, now: Date = new Date()): Promise<UserView> {
    authorize(principal, 'users.create');
    const usage = 'send { "username", "displayName", "role", "unitId" (for unit-admin and clerk), "password"?, "pseudonymous"? (citizens) }';
    const given = fieldsOf(body, ['username', 'displayName', 'role', 'unitId', 'password', 'pseudonymous'], usage);
    validatePeople(typeof given.username === 'string' && USERNAME.test(given.username), 'INVALID_INPUT', 'username must be 3 to 64 of a-z, 0-9, ".", "_", "-", starting with a letter or digit');
    const username = given.username;
    validatePeople(USER_ROLES.includes(given.role as UserRole), 'INVALID_INPUT', `role must be one of ${USER_ROLES.join(', ')}`);
    const role = given.role as UserRole;
    const displayName = checkText(typeof given.displayName === 'string' ? given.displayName.trim() : given.displayName, 'displayName', MAX_DISPLAY_NAME_LENGTH);
    let unitId: number | null = null;
    if (UNIT_ROLES.includes(role)) {
      validatePeople(Number.isSafeInteger(given.unitId) && (given.unitId as number) > 0, 'INVALID_INPUT', `a ${role} belongs to a unit: give unitId`);
      unitId = given.unitId as number;
    } else {
      validatePeople(given.unitId === undefined || given.unitId === null, 'INVALID_INPUT', `a ${role} belongs to no unit: leave unitId out`);
    }
    validatePeople(given.pseudonymous === undefined || (role === 'citizen' && typeof given.pseudonymous === 'boolean'), 'INVALID_INPUT', 'pseudonymous (true or false) is for citizens only');
    authorizeUserManagement(principal, { role, unitId });
    const passwordHash = given.password === undefined ? null : await hashPassword(checkPassword(given.password));
    const row = this.store.transaction(() => {
      let accountId: number;
      if (unitId !== null) {
        const unit = findUnitById(this.store, unitId);
        if (!unit) throw new PeopleError('NOT_FOUND', `no unit ${unitId}`);
        accountId = unit.account_id;
      } else {
        accountId = insertAccount(this.store, { name: displayName, role: ACCOUNT_ROLE[role], pseudonymous: given.pseudonymous === true, createdAt: now.toISOString() }).id;
      }
      if (findUserByUsername(this.store, username)) throw new PeopleError('DUPLICATE_USERNAME', `the username ${username} is taken`);
      return insertUser(this.store, { username, displayName, role, unitId, accountId, passwordHash, createdAt: now.toISOString() });
    });
    return toUserView(row);
  }

  /** Users in id order: all (or one unit's) for staff and auditors; a unit-admin its unit's. */
  list(principal: Principal, options: { limit: number; after?: number; unitId?: number }): UserView[] {
    authorize(principal, 'users.read');
    if (!can(principal, 'units.read-all')) {
      if (principal.unitId === null || principal.unitId === undefined) return [];
      if (options.unitId !== undefined && options.unitId !== principal.unitId) return [];
      return listUsers(this.store, { ...options, unitId: principal.unitId }).map(toUserView);
    }
    return listUsers(this.store, options).map(toUserView);
  }

  /**
   * Changes a user: displayName and password (the user itself, or who manages it), role and
   * status (who manages it). A new password or a suspension ends the user's sessions; a new
   * password also lifts a lockout.
   */
  async update(principal: Principal, id: number, body: unknown): Promise<UserView> {
    const usage = 'send any of { "displayName", "password", "role", "status": "active" | "suspended" }';
    const given = fieldsOf(body, ['displayName', 'password', 'role', 'status'], usage);
    validatePeople(Object.keys(given).length > 0, 'INVALID_INPUT', usage);
    const target = findUserById(this.store, id);
    const self = principal.userId === id;
    const managed = () => {
      authorize(principal, 'users.update');
      if (!target) throw new PeopleError('NOT_FOUND', `no user ${id}`);
      authorizeUserManagement(principal, { role: target.role, unitId: target.unit_id });
    };
    if (!(self && given.role === undefined && given.status === undefined)) managed();
    if (!target) throw new PeopleError('NOT_FOUND', `no user ${id}`);

    const changes: UserChanges = {};
    if (given.displayName !== undefined) changes.display_name = checkText(typeof given.displayName === 'string' ? given.displayName.trim() : given.displayName, 'displayName', MAX_DISPLAY_NAME_LENGTH);
    if (given.role !== undefined) {
      validatePeople(USER_ROLES.includes(given.role as UserRole), 'INVALID_INPUT', `role must be one of ${USER_ROLES.join(', ')}`);
      const role = given.role as UserRole;
      authorizeUserManagement(principal, { role, unitId: target.unit_id });
      validatePeople(roleGroup(role) === roleGroup(target.role), 'INVALID_INPUT', `a ${target.role} cannot become a ${role}: they register as different accounts; make a new user`);
      changes.role = role;
    }
    if (given.status !== undefined) {
      validatePeople(given.status === 'active' || given.status === 'suspended', 'INVALID_INPUT', 'status must be active or suspended');
      changes.status = given.status;
    }
    if (given.password !== undefined) {
      changes.password_hash = await hashPassword(checkPassword(given.password));
      changes.failed_logins = 0;
      changes.locked_until = null;
    }
    const row = this.store.transaction(() => {
      const after = updateUser(this.store, id, changes);
      if (!after) throw new PeopleError('NOT_FOUND', `no user ${id}`);
      // A staff member's own account says what it is (admin, registrar, auditor).
      if (changes.role !== undefined && roleGroup(changes.role) === 'staff') {
        setAccountRole(this.store, after.account_id, ACCOUNT_ROLE[changes.role]);
      }
      if (changes.password_hash !== undefined || changes.status === 'suspended') endSessionsOfUser(this.store, id, new Date().toISOString());
      return after;
    });
    this.onChange();
    return toUserView(row);
  }
}

/** Roles a user may move between: they register as the same kind of account. */
function roleGroup(role: UserRole): 'unit' | 'citizen' | 'staff' {
  return UNIT_ROLES.includes(role) ? 'unit' : role === 'citizen' ? 'citizen' : 'staff';
}

function fieldsOf(body: unknown, fields: readonly string[], usage: string): Record<string, unknown> {
  validatePeople(typeof body === 'object' && body !== null && !Array.isArray(body), 'INVALID_INPUT', usage);
  const unknown = Object.keys(body).find((k) => !fields.includes(k));
  validatePeople(unknown === undefined, 'INVALID_INPUT', `${unknown} is not a user field; ${usage}`);
  return body as Record<string, unknown>;
}

function checkText(value: unknown, field: string, maxLength: number): string {
  const problem = userTextProblem(value, field, { maxLength });
  if (problem) throw new PeopleError('INVALID_TEXT', problem);
  return value as string;
}

function checkPassword(value: unknown): string {
  validatePeople(typeof value === 'string', 'WEAK_PASSWORD', 'password must be text');
  validatePeople(value.length >= MIN_PASSWORD_LENGTH && value.length <= MAX_PASSWORD_LENGTH, 'WEAK_PASSWORD', `a password has ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`);
  return value;
}

export function toUserView(row: AppUserRow): UserView {
  return {
    id: row.id,
    username: row.username,
    displayName: row.display_name,
    role: row.role,
    unitId: row.unit_id,
    accountId: row.account_id,
    status: row.status,
    hasPassword: row.password_hash !== null,
    lockedUntil: row.locked_until,
    createdAt: row.created_at,
  };
}
