import { creditCodeProblem } from '../core/credit-code.js';
import { userTextProblem } from '../core/user-text.js';
import type { Principal } from '../registry/principal.js';
import { insertAccount } from '../store/accounts-repository.js';
import type { UnitKind, UnitRow } from '../store/database.js';
import type { Store } from '../store/store.js';
import {
  findUnitByCreditCode,
  findUnitById,
  insertUnit,
  listUnits,
  renameAccount,
  updateUnit,
  type UnitChanges,
} from '../store/units-repository.js';
import { authorize, can, canReachUnit } from './permissions.js';
import { PeopleError, validatePeople } from './people-error.js';

export const UNIT_KINDS: readonly UnitKind[] = ['agency', 'public-institution', 'state-enterprise', 'private-enterprise', 'social-organization'];
export const MAX_UNIT_NAME_LENGTH = 200;
const MAX_CONTACT_LENGTH = 500;
const FIELDS = ['name', 'creditCode', 'kind', 'region', 'inTransferScope', 'digitalArchiveRoom', 'contact'] as const;

/** The fields of a unit a request gives, checked (all four required ones present on create). */
interface UnitInput {
  name?: string;
  creditCode?: string;
  kind?: UnitKind;
  region?: string;
  inTransferScope?: boolean;
  digitalArchiveRoom?: boolean;
  contact?: string | null;
}

/** A unit as the API and CLI show it. */
export interface UnitView {
  id: number;
  name: string;
  creditCode: string | null;
  kind: UnitKind | null;
  region: string | null;
  inTransferScope: boolean;
  digitalArchiveRoom: boolean;
  contact: string | null;
  status: 'active' | 'suspended';
  accountId: number;
  createdAt: string;
  updatedAt: string;
}

/** Units (单位): staff create, edit and suspend them; a unit's users read their own. */
export class UnitService {
  constructor(
    private readonly store: Store,
    /** The center's regions (the city and its counties), from configuration. */
    private readonly regions: readonly string[],
    /** Called after a change that alters what a principal stands for (name, suspension). */
    private readonly onChange: () => void = () => {},
  ) {}

  /** Makes a unit (and the account its users register as). DUPLICATE_UNIT for a credit code already held. */
  create(principal: Principal, body: unknown, now: Date = new Date()): UnitView {
    authorize(principal, 'units.create');
    const input = this.parse(body, 'create');
    return this.store.transaction(() => {
      if (findUnitByCreditCode(this.store, input.creditCode!)) {
        throw new PeopleError('DUPLICATE_UNIT', `a unit with the credit code ${input.creditCode} exists already`);
      }
      const createdAt = now.toISOString();
      const account = insertAccount(this.store, { name: input.name!, role: 'depositor', pseudonymous: false, createdAt });
      return toUnitView(
        insertUnit(this.store, {
          name: input.name!,
          creditCode: input.creditCode!,
          kind: input.kind!,
          region: input.region!,
          inTransferScope: input.inTransferScope ?? false,
          digitalArchiveRoom: input.digitalArchiveRoom ?? false,
          contact: input.contact ?? null,
          accountId: account.id,
          createdAt,
        }),
      );
    });
  }

  /** Units in id order after `after`: all for staff and auditors, a unit's users their own. */
  list(principal: Principal, options: { limit: number; after?: number }): UnitView[] {
    authorize(principal, 'units.read');
    if (!can(principal, 'units.read-all')) {
      if (principal.unitId === null) return [];
      return listUnits(this.store, { ...options, onlyId: principal.unitId }).map(toUnitView);
    }
    return listUnits(this.store, options).map(toUnitView);
  }

  /** The unit `id`; NOT_FOUND for one the principal may not see (ids reveal nothing). */
  get(principal: Principal, id: number): UnitView {
    authorize(principal, 'units.read');
    const row = findUnitById(this.store, id);
    if (!row || !canReachUnit(principal, id)) throw new PeopleError('NOT_FOUND', `no unit ${id}`);
    return toUnitView(row);
  }

  /** Changes the fields given (any of those `create` takes); DUPLICATE_UNIT for another unit's credit code. */
  update(principal: Principal, id: number, body: unknown, now: Date = new Date()): UnitView {
    authorize(principal, 'units.update');
    const input = this.parse(body, 'update');
    const changes: UnitChanges = {
      ...(input.name !== undefined && { name: input.name }),
      ...(input.creditCode !== undefined && { credit_code: input.creditCode }),
      ...(input.kind !== undefined && { kind: input.kind }),
      ...(input.region !== undefined && { region: input.region }),
      ...(input.inTransferScope !== undefined && { in_transfer_scope: input.inTransferScope ? 1 : 0 }),
      ...(input.digitalArchiveRoom !== undefined && { digital_archive_room: input.digitalArchiveRoom ? 1 : 0 }),
      ...(input.contact !== undefined && { contact: input.contact }),
    };
    validatePeople(Object.keys(changes).length > 0, 'INVALID_INPUT', `send at least one of ${FIELDS.join(', ')}`);
    return this.change(id, changes, now);
  }

  /** Suspends (or, with `suspended` false, reinstates) a unit: its users can neither sign in nor use their tokens. */
  setSuspended(principal: Principal, id: number, suspended: boolean, now: Date = new Date()): UnitView {
    authorize(principal, 'units.update');
    return this.change(id, { status: suspended ? 'suspended' : 'active' }, now);
  }

  private change(id: number, changes: UnitChanges, now: Date): UnitView {
    const row = this.store.transaction(() => {
      const before = findUnitById(this.store, id);
      if (!before) throw new PeopleError('NOT_FOUND', `no unit ${id}`);
      if (changes.credit_code) {
        const holder = findUnitByCreditCode(this.store, changes.credit_code);
        if (holder && holder.id !== id) throw new PeopleError('DUPLICATE_UNIT', `unit ${holder.id} holds the credit code ${changes.credit_code}`);
      }
      const after = updateUnit(this.store, id, changes, now.toISOString());
      if (!after) throw new PeopleError('NOT_FOUND', `no unit ${id}`);
      // New records name the unit by its new name; sealed ones keep the name they were made with.
      if (changes.name !== undefined) renameAccount(this.store, after.account_id, changes.name);
      return after;
    });
    this.onChange();
    return toUnitView(row);
  }

  private parse(body: unknown, mode: 'create' | 'update'): UnitInput {
    const usage = `send a JSON object with ${mode === 'create' ? 'name, creditCode, kind, region and optionally ' : 'any of name, creditCode, kind, region, '}inTransferScope, digitalArchiveRoom, contact`;
    validatePeople(typeof body === 'object' && body !== null && !Array.isArray(body), 'INVALID_INPUT', usage);
    const given = body as Record<string, unknown>;
    const unknown = Object.keys(given).find((k) => !(FIELDS as readonly string[]).includes(k));
    validatePeople(unknown === undefined, 'INVALID_INPUT', `${unknown} is not a unit field; ${usage}`);
    if (mode === 'create') {
      for (const required of ['name', 'creditCode', 'kind', 'region'] as const) {
        validatePeople(given[required] !== undefined, 'INVALID_INPUT', `${required} is required; ${usage}`);
      }
    }
    const out: UnitInput = {};
    if (given.name !== undefined) out.name = checkUnitName(given.name);
    if (given.creditCode !== undefined) {
      validatePeople(typeof given.creditCode === 'string', 'INVALID_CREDIT_CODE', 'creditCode must be text (18 characters)');
      const problem = creditCodeProblem(given.creditCode);
      if (problem) throw new PeopleError('INVALID_CREDIT_CODE', `creditCode ${JSON.stringify(given.creditCode)}: ${problem}`);
      out.creditCode = given.creditCode;
    }
    if (given.kind !== undefined) {
      validatePeople(UNIT_KINDS.includes(given.kind as UnitKind), 'INVALID_INPUT', `kind must be one of ${UNIT_KINDS.join(', ')}`);
      out.kind = given.kind as UnitKind;
    }
    if (given.region !== undefined) {
      if (typeof given.region !== 'string' || !this.regions.includes(given.region)) {
        throw new PeopleError('UNKNOWN_REGION', `region must be one of the center's regions: ${this.regions.join(', ')}`);
      }
      out.region = given.region;
    }
    for (const flag of ['inTransferScope', 'digitalArchiveRoom'] as const) {
      if (given[flag] !== undefined) {
        validatePeople(typeof given[flag] === 'boolean', 'INVALID_INPUT', `${flag} must be true or false`);
        out[flag] = given[flag];
      }
    }
    if (given.contact !== undefined) {
      if (given.contact === null || given.contact === '') out.contact = null;
      else out.contact = checkText(given.contact, 'contact', MAX_CONTACT_LENGTH);
    }
    return out;
  }
}

/** A unit's name: the house text rule, and Chinese (at least one Han character), as the policy names units. */
export function checkUnitName(value: unknown): string {
  const name = checkText(typeof value === 'string' ? value.trim() : value, 'name', MAX_UNIT_NAME_LENGTH);
  validatePeople(/\p{Script=Han}/u.test(name), 'INVALID_TEXT', `name must be the unit's Chinese name (e.g. 衢州市民政局); ${JSON.stringify(name)} has no Chinese character`);
  return name;
}

function checkText(value: unknown, field: string, maxLength: number): string {
  const problem = userTextProblem(value, field, { maxLength });
  if (problem) throw new PeopleError('INVALID_TEXT', problem);
  return value as string;
}

export function toUnitView(row: UnitRow): UnitView {
  return {
    id: row.id,
    name: row.name,
    creditCode: row.credit_code,
    kind: row.kind,
    region: row.region,
    inTransferScope: row.in_transfer_scope === 1,
    digitalArchiveRoom: row.digital_archive_room === 1,
    contact: row.contact,
    status: row.status,
    accountId: row.account_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
