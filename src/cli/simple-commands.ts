import { join, resolve } from 'node:path';
import { access, constants, writeFile } from 'node:fs/promises';
import { PRIVATE_FILE_MODE } from '../durable-files.js';
import { parseArgs } from 'node:util';
import { issueToken, MAX_ACCOUNT_NAME_LENGTH, ROLES, type TokenRequest } from '../people/access-tokens.js';
import { userTextProblem } from '../core/user-text.js';
import { RegistryError } from '../registry/registry-error.js';
import type { TokenView } from '../people/token-service.js';
import type { RegistrationView } from '../registry/registration-view.js';
import type { PeriodView } from '../http/periods-routes.js';
import type { Role } from '../store/database.js';
import { CliError, describeFileError, EXIT_OK, usageError } from './cli-error.js';
import { CONNECTION_OPTIONS, connect } from './connection.js';
import { parsePositiveId, POSITIVE_ID_RANGE } from '../core/positive-id.js';

type Env = Readonly<Record<string, string | undefined>>;

function registrationId(text: string): number {
  const id = parsePositiveId(text);
  if (id === undefined) throw usageError(`${text} is not a registration id (${POSITIVE_ID_RANGE})`);
  return id;
}

/** `archive-seal seal`: closes and seals the open period on a running center. */
export async function sealCommand(args: string[], env: Env): Promise<number> {
  const { values } = parseArgs({ args, options: { ...CONNECTION_OPTIONS, json: { type: 'boolean', default: false } } });
  const period = await connect(values, env, { needsToken: true }).json<PeriodView>('POST', '/v1/periods/seal');
  if (values.json) process.stdout.write(JSON.stringify(period, null, 2) + '\n');
  else process.stdout.write(`period ${period.id} sealed: ${period.leafCount} registrations, root sha256:${period.root}\n`);
  return EXIT_OK;
}

/** `archive-seal status ID`: a registration's state, digests and (once sealed) proof and root. */
export async function statusCommand(args: string[], env: Env): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...CONNECTION_OPTIONS, json: { type: 'boolean', default: false } },
  });
  const [given, ...rest] = positionals;
  if (!given || rest.length > 0) throw usageError('give one registration id: archive-seal status ID');
  const id = registrationId(given);
  const r = await connect(values, env, { needsToken: true }).json<RegistrationView>('GET', `/v1/registrations/${id}`);
  if (values.json) {
    process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    return EXIT_OK;
  }
  const lines = [
    `registration ${r.id}: ${r.status}`,
    `  period         ${r.periodId}`,
    `  registered at  ${r.registeredAt}`,
    `  category       ${r.record.category}`,
    ...(r.record.fileName ? [`  file name      ${r.record.fileName}`] : []),
    `  sha256         ${r.digests.sha256}`,
    ...(r.digests.sm3 ? [`  sm3            ${r.digests.sm3}`] : []),
    `  record sha256  ${r.recordDigest.sha256}`,
    `  leaf           ${r.leafHash} (index ${r.leafIndex})`,
    ...(r.proof && r.root
      ? [`  proof          ${r.proof.path.length} steps in a tree of ${r.proof.treeSize}`, `  root           ${r.root}`]
      : ['  proof          not yet: the period is not sealed']),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return EXIT_OK;
}

const TOKENS_USAGE =
  'usage: archive-seal tokens create --name NAME --role admin|registrar|depositor [--pseudonymous]   (a new account)\n' +
  '       archive-seal tokens create --account ID   (another token for an existing account)\n' +
  '       archive-seal tokens list [--mine] [--json]   (your tokens; an admin\'s or auditor\'s: every token)\n' +
  '       archive-seal tokens revoke ID';

/**
 * `archive-seal tokens create`: issues a bearer token straight into an existing center's database
 * (the center may be running or stopped). `--name N --role R` makes a new account (names are not
 * unique: two people may share one); `--account ID` names an existing account. Prints the token.
 */
export async function tokensCommand(args: string[], env: Env): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'list') return tokensListCommand(rest, env);
  if (sub === 'revoke') return tokensRevokeCommand(rest, env);
  if (sub !== 'create') throw usageError(TOKENS_USAGE);
  const { values } = parseArgs({
    args: rest,
    options: {
      role: { type: 'string' },
      name: { type: 'string' },
      pseudonymous: { type: 'boolean' },
      account: { type: 'string' },
      'data-dir': { type: 'string' },
    },
  });
  let request: TokenRequest;
  if (values.account !== undefined) {
    if (values.name !== undefined || values.role !== undefined || values.pseudonymous !== undefined) {
      throw usageError('--account names an existing account, whose name, role and pseudonymity stay as they are: give --account alone');
    }
    const accountId = parsePositiveId(values.account);
    if (accountId === undefined) throw usageError(`--account ${values.account} is not an account id (${POSITIVE_ID_RANGE})`);
    request = { accountId };
  } else {
    if (!values.role || !ROLES.includes(values.role as Role)) throw usageError(`--role must be one of ${ROLES.join(', ')}`);
    if (!values.name) throw usageError('--name is required (the unit or person the new account is for), or --account ID for an existing account');
    const problem = userTextProblem(values.name.trim(), '--name', { maxLength: MAX_ACCOUNT_NAME_LENGTH });
    if (problem) throw usageError(problem);
    request = { name: values.name, role: values.role as Role, pseudonymous: values.pseudonymous ?? false };
  }
  const dataDir = resolve(values['data-dir'] ?? env.ARCHIVE_SEAL_DATA_DIR ?? './data');
  const databaseFile = join(dataDir, 'archive-seal.sqlite');
  // Never a new database: a token in one no center reads (a mistyped directory) would be
  // printed as if it worked. The first admin token comes from the first `archive-seal serve`.
  const databaseUrl = env.ARCHIVE_SEAL_DATABASE_URL || undefined;
  if (databaseUrl === undefined) {
    try {
      await access(databaseFile, constants.R_OK | constants.W_OK);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new CliError(`cannot open ${databaseFile}: ${describeFileError(err)}`);
      throw new CliError(
        `there is no center database at ${databaseFile}: start the center once with \`archive-seal serve\`, or give its data directory with --data-dir or ARCHIVE_SEAL_DATA_DIR`,
      );
    }
  }
  // Loaded here: the client commands run where the database driver is not installed.
  const { Store } = await import('../store/store.js');
  const store = await Store.open({ file: databaseFile, url: databaseUrl });
  try {
    const issued = issueToken(store, request);
    const { accountId, name, role, pseudonymous } = issued.account;
    const kind = 'accountId' in request ? 'another token for account' : 'new account';
    process.stderr.write(`${kind} ${accountId}: ${name} (${role}${pseudonymous ? ', pseudonymous' : ''}); the token is shown once, keep it secret:\n`);
    process.stdout.write(issued.token + '\n');
    return EXIT_OK;
  } catch (err) {
    if (err instanceof RegistryError) throw new CliError(err.message);
    throw err;
  } finally {
    store.close();
  }
}

/** A token as `GET /v1/tokens` lists it: the service's own view (a type only: nothing of the server is loaded). */
type TokenListEntry = TokenView;

/** `archive-seal tokens list`: tokens on a running center (never the tokens themselves: ids, owners, state). */
async function tokensListCommand(args: string[], env: Env): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...CONNECTION_OPTIONS, mine: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
  });
  if (positionals.length > 0) throw usageError('tokens list takes no arguments');
  const client = connect(values, env, { needsToken: true });
  const tokens: TokenListEntry[] = [];
  for (let after = 0; ; ) {
    const page = await client.json<{ tokens: TokenListEntry[] }>('GET', `/v1/tokens?limit=1000${values.mine ? '&mine=true' : ''}${after ? `&after=${after}` : ''}`);
    tokens.push(...page.tokens);
    if (page.tokens.length < 1000) break;
    after = page.tokens[page.tokens.length - 1]!.id;
  }
  if (values.json) {
    process.stdout.write(JSON.stringify({ tokens }, null, 2) + '\n');
    return EXIT_OK;
  }
  for (const t of tokens) {
    process.stdout.write([t.id, t.username ?? `account ${t.accountId}`, t.status, `created ${t.createdAt}`, t.expiresAt ? `expires ${t.expiresAt}` : 'no expiry'].join('\t') + '\n');
  }
  return EXIT_OK;
}

/** `archive-seal tokens revoke ID`: the token stops working at once. */
async function tokensRevokeCommand(args: string[], env: Env): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...CONNECTION_OPTIONS } });
  const [given, ...rest] = positionals;
  if (given === undefined || rest.length > 0) throw usageError('give one token id: archive-seal tokens revoke ID (ids: archive-seal tokens list)');
  const id = parsePositiveId(given);
  if (id === undefined) throw usageError(`${given} is not a token id (${POSITIVE_ID_RANGE})`);
  const token = await connect(values, env, { needsToken: true }).json<TokenListEntry>('DELETE', `/v1/tokens/${id}`);
  process.stdout.write(`token ${token.id} of ${token.username ?? `account ${token.accountId}`} revoked at ${token.revokedAt}\n`);
  return EXIT_OK;
}

/** `archive-seal certificate ID [--out FILE]`: the registration's certificate from a running center. */
export async function certificateCommand(args: string[], env: Env): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...CONNECTION_OPTIONS, out: { type: 'string' } },
  });
  const [given, ...rest] = positionals;
  if (!given || rest.length > 0) throw usageError('give one registration id: archive-seal certificate ID [--out FILE]');
  const id = registrationId(given);
  const certificate = await connect(values, env, { needsToken: true }).json<unknown>('GET', `/v1/registrations/${id}/certificate`);
  const text = JSON.stringify(certificate, null, 2) + '\n';
  if (values.out) {
    await writeFile(values.out, text, { mode: PRIVATE_FILE_MODE });
    process.stderr.write(`certificate of registration ${id} written to ${values.out}\n`);
  } else {
    process.stdout.write(text);
  }
  return EXIT_OK;
}
