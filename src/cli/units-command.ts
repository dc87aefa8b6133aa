import { parseArgs } from 'node:util';
import { creditCodeProblem } from '../core/credit-code.js';
import { parsePositiveId, POSITIVE_ID_RANGE } from '../core/positive-id.js';
import type { UnitView } from '../people/unit-service.js';
import { EXIT_OK, usageError } from './cli-error.js';
import { CONNECTION_OPTIONS, connect } from './connection.js';

type Env = Readonly<Record<string, string | undefined>>;

export const UNITS_USAGE = `archive-seal units add --name 名称 --credit-code CODE --kind KIND --region REGION [--in-transfer-scope] [--archive-room] [--contact TEXT] [--json]
archive-seal units list [--json]
archive-seal units edit ID [--name 名称] [--credit-code CODE] [--kind KIND] [--region REGION] [--in-transfer-scope true|false] [--archive-room true|false] [--contact TEXT] [--json]
archive-seal units suspend ID [--reinstate] [--json]
  Units (单位) on a running center (staff: admin, registrar; everyone may list those it sees).
  KIND: agency, public-institution, state-enterprise, private-enterprise, social-organization.
  REGION: one of the center's regions (ARCHIVE_SEAL_REGIONS; default 衢州市 and its counties).
  CODE: the 18-character unified social credit code (统一社会信用代码), check character verified.
  --server URL, --token T (or ARCHIVE_SEAL_SERVER, ARCHIVE_SEAL_TOKEN)`;

const FIELD_OPTIONS = {
  name: { type: 'string' },
  'credit-code': { type: 'string' },
  kind: { type: 'string' },
  region: { type: 'string' },
  contact: { type: 'string' },
} as const;

/** `archive-seal units add|list|edit|suspend`: the units of a running center, through its API. */
export async function unitsCommand(args: string[], env: Env): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'add':
      return add(rest, env);
    case 'list':
      return list(rest, env);
    case 'edit':
      return edit(rest, env);
    case 'suspend':
      return suspend(rest, env);
    default:
      throw usageError(UNITS_USAGE);
  }
}

async function add(args: string[], env: Env): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...CONNECTION_OPTIONS, ...FIELD_OPTIONS, 'in-transfer-scope': { type: 'boolean' }, 'archive-room': { type: 'boolean' }, json: { type: 'boolean', default: false } },
  });
  if (positionals.length > 0) throw usageError('units add takes no arguments besides its options');
  for (const required of ['name', 'credit-code', 'kind', 'region'] as const) {
    if (values[required] === undefined) throw usageError(`--${required} is required (archive-seal units --help)`);
  }
  checkCreditCode(values['credit-code']);
  const body = {
    name: values.name,
    creditCode: values['credit-code'],
    kind: values.kind,
    region: values.region,
    inTransferScope: values['in-transfer-scope'] ?? false,
    digitalArchiveRoom: values['archive-room'] ?? false,
    ...(values.contact !== undefined && { contact: values.contact }),
  };
  const unit = await connect(values, env, { needsToken: true }).json<UnitView>('POST', '/v1/units', body);
  print(unit, values.json, 'added');
  return EXIT_OK;
}

async function list(args: string[], env: Env): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...CONNECTION_OPTIONS, json: { type: 'boolean', default: false } } });
  if (positionals.length > 0) throw usageError('units list takes no arguments');
  const client = connect(values, env, { needsToken: true });
  const units: UnitView[] = [];
  for (let after = 0; ; ) {
    const page = await client.json<{ units: UnitView[] }>('GET', `/v1/units?limit=1000${after ? `&after=${after}` : ''}`);
    units.push(...page.units);
    if (page.units.length < 1000) break;
    after = page.units[page.units.length - 1]!.id;
  }
  if (values.json) {
    process.stdout.write(JSON.stringify({ units }, null, 2) + '\n');
    return EXIT_OK;
  }
  for (const u of units) process.stdout.write(line(u) + '\n');
  return EXIT_OK;
}

async function edit(args: string[], env: Env): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...CONNECTION_OPTIONS, ...FIELD_OPTIONS, 'in-transfer-scope': { type: 'string' }, 'archive-room': { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const id = unitId(positionals, 'edit');
  if (values['credit-code'] !== undefined) checkCreditCode(values['credit-code']);
  const flag = (name: 'in-transfer-scope' | 'archive-room'): boolean | undefined => {
    const v = values[name];
    if (v === undefined) return undefined;
    if (v !== 'true' && v !== 'false') throw usageError(`--${name} takes true or false`);
    return v === 'true';
  };
  const body = {
    ...(values.name !== undefined && { name: values.name }),
    ...(values['credit-code'] !== undefined && { creditCode: values['credit-code'] }),
    ...(values.kind !== undefined && { kind: values.kind }),
    ...(values.region !== undefined && { region: values.region }),
    ...(flag('in-transfer-scope') !== undefined && { inTransferScope: flag('in-transfer-scope') }),
    ...(flag('archive-room') !== undefined && { digitalArchiveRoom: flag('archive-room') }),
    ...(values.contact !== undefined && { contact: values.contact }),
  };
  if (Object.keys(body).length === 0) throw usageError('units edit: give at least one field to change (archive-seal units --help)');
  const unit = await connect(values, env, { needsToken: true }).json<UnitView>('PATCH', `/v1/units/${id}`, body);
  print(unit, values.json, 'changed');
  return EXIT_OK;
}

async function suspend(args: string[], env: Env): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...CONNECTION_OPTIONS, reinstate: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
  });
  const id = unitId(positionals, 'suspend');
  const unit = await connect(values, env, { needsToken: true }).json<UnitView>('POST', `/v1/units/${id}/${values.reinstate ? 'reinstate' : 'suspend'}`);
  print(unit, values.json, values.reinstate ? 'reinstated' : 'suspended');
  return EXIT_OK;
}

function unitId(positionals: string[], sub: string): number {
  const [given, ...rest] = positionals;
  if (given === undefined || rest.length > 0) throw usageError(`give one unit id: archive-seal units ${sub} ID`);
  const id = parsePositiveId(given);
  if (id === undefined) throw usageError(`${given} is not a unit id (${POSITIVE_ID_RANGE})`);
  return id;
}

/** The check character is checked here too: a mistyped code is bad usage before anything is sent. */
function checkCreditCode(code: string | undefined): void {
  const problem = code === undefined ? undefined : creditCodeProblem(code);
  if (problem) throw usageError(`--credit-code ${code}: ${problem} (INVALID_CREDIT_CODE)`);
}

function line(u: UnitView): string {
  const flags = [u.inTransferScope ? 'in-transfer-scope' : '', u.digitalArchiveRoom ? 'archive-room' : '', u.status === 'suspended' ? 'SUSPENDED' : ''].filter(Boolean).join(',');
  return [u.id, u.name, u.creditCode ?? '-', u.kind ?? '-', u.region ?? '-', flags || '-'].join('\t');
}

function print(unit: UnitView, json: boolean, what: string): void {
  if (json) process.stdout.write(JSON.stringify(unit, null, 2) + '\n');
  else process.stdout.write(`unit ${unit.id} ${what}: ${line(unit)}\n`);
}
