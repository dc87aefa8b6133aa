import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { getCenterMeta } from '../store/accounts-repository.js';
import { Store } from '../store/store.js';
import { formatMasterKey, parseMasterKey, readMasterKeyFile, writeMasterKeyFile, type MasterKey } from '../vault/master-key.js';
import { CliError, EXIT_OK, usageError } from './cli-error.js';
import { keysCsr, keysImport, keysInit, keysTls } from './pki-keys-commands.js';

type Env = Readonly<Record<string, string | undefined>>;

/** One `archive-seal keys` subcommand. */
export interface KeysSubcommand {
  usage: string;
  run(args: string[], env: Env): Promise<number>;
}

/** `archive-seal keys SUBCOMMAND`: the table other `keys` subcommands join. */
export const KEYS_SUBCOMMANDS: Record<string, KeysSubcommand> = {
  init: keysInit,
  csr: keysCsr,
  import: keysImport,
  tls: keysTls,
  'export-master': {
    usage: 'archive-seal keys export-master [--out FILE] [--data-dir DIR]   print the vault master key for its offline copy',
    run: exportMaster,
  },
  'import-master': {
    usage: 'archive-seal keys import-master FILE [--data-dir DIR]          put an offline copy of the master key back',
    run: importMaster,
  },
};

export const KEYS_USAGE = Object.values(KEYS_SUBCOMMANDS).map((s) => s.usage).join('\n');

export async function keysCommand(args: string[], env: Env): Promise<number> {
  const [name, ...rest] = args;
  const sub = name === undefined ? undefined : KEYS_SUBCOMMANDS[name];
  if (!sub) throw usageError(`usage:\n  ${KEYS_USAGE.replace(/\n/g, '\n  ')}`);
  return sub.run(rest, env);
}

/** The configuration with `--data-dir` (when given) in place of ARCHIVE_SEAL_DATA_DIR. */
function configWith(env: Env, dataDir: string | undefined) {
  return loadConfig(dataDir === undefined ? env : { ...env, ARCHIVE_SEAL_DATA_DIR: dataDir });
}

/** The master key id the center's database recorded, if there is a database. */
function recordedKeyId(dataDir: string, databaseUrl?: string): string | undefined {
  const file = join(dataDir, 'archive-seal.sqlite');
  if (databaseUrl === undefined && !existsSync(file)) return undefined;
  let store: Store;
  try {
    store = databaseUrl === undefined ? Store.openConnection({ file, readonly: true }) : Store.openConnection({ file, url: databaseUrl });
  } catch {
    return undefined;
  }
  try {
    return getCenterMeta(store, 'vault-master-key-id');
  } catch {
    return undefined;
  } finally {
    store.close();
  }
}

/**
 * `keys export-master`: prints the master key (or writes it, mode 0600, to `--out`), for a copy
 * kept offline: with it and a peer's copies, `archive-seal recover` makes the originals readable
 * again after the site is lost. Anyone holding it can read every original: treat it so.
 */
async function exportMaster(args: string[], env: Env): Promise<number> {
  const { values } = parseArgs({ args, options: { out: { type: 'string' }, 'data-dir': { type: 'string' } } });
  const config = configWith(env, values['data-dir']);
  const key = readMasterKeyFile(config.backup.masterKeyFile);
  if (!key) throw new CliError(`there is no master key at ${config.backup.masterKeyFile} (it is made when the center first starts)`);
  const recorded = recordedKeyId(config.dataDir, config.databaseUrl);
  if (recorded !== undefined && recorded !== key.id) {
    throw new CliError(`${config.backup.masterKeyFile} holds key ${key.id}, but the center's vault was sealed under ${recorded}`);
  }
  const text = formatMasterKey(key);
  if (values.out) {
    const out = resolve(values.out);
    if (existsSync(out)) throw usageError(`${out} exists; refusing to overwrite it`);
    mkdirSync(dirname(out), { recursive: true, mode: 0o700 });
    writeFileSync(out, text, { mode: 0o600, flag: 'wx' });
    process.stderr.write(`master key ${key.id} written to ${out}: keep it offline and secret; anyone holding it can read every original\n`);
  } else {
    process.stdout.write(text);
    process.stderr.write(`master key ${key.id}: keep this text offline and secret; anyone holding it can read every original\n`);
  }
  return EXIT_OK;
}

/** `keys import-master FILE`: writes an offline copy back as the center's master key file. */
async function importMaster(args: string[], env: Env): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { 'data-dir': { type: 'string' } } });
  const [file, ...extra] = positionals;
  if (!file || extra.length > 0) throw usageError(`usage: ${KEYS_SUBCOMMANDS['import-master']!.usage}`);
  const key = readKeyFile(file);
  const config = configWith(env, values['data-dir']);
  const recorded = recordedKeyId(config.dataDir, config.databaseUrl);
  if (recorded !== undefined && recorded !== key.id) throw new CliError(`this is key ${key.id}; the center's vault was sealed under ${recorded}`);
  const existing = readMasterKeyFile(config.backup.masterKeyFile);
  if (existing) {
    if (existing.id === key.id) {
      process.stderr.write(`master key ${key.id} is already in place at ${config.backup.masterKeyFile}\n`);
      return EXIT_OK;
    }
    throw new CliError(`${config.backup.masterKeyFile} already holds another key (${existing.id}); refusing to replace it`);
  }
  writeMasterKeyFile(config.backup.masterKeyFile, key);
  process.stderr.write(`master key ${key.id} written to ${config.backup.masterKeyFile} (mode 0600)\n`);
  return EXIT_OK;
}

/** Reads and checks a master key file given on the command line (usage error when unreadable). */
export function readKeyFile(file: string): MasterKey {
  let text: string;
  try {
    text = readFileSync(resolve(file), 'utf8');
  } catch {
    throw usageError(`cannot read ${file}`);
  }
  try {
    return parseMasterKey(text);
  } catch (err) {
    throw usageError(`${file}: ${(err as Error).message}`);
  }
}
