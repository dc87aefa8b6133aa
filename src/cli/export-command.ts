import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { loadCenterPki } from '../pki/center-pki.js';
import { readPkiSetSource } from '../pki/key-management.js';
import { CertificateIssuer } from '../registry/certificate-issuer.js';
import { RegistrationReader } from '../registry/registration-reader.js';
import { findPeriod } from '../store/periods-repository.js';
import { findRegistration } from '../store/registrations-repository.js';
import { Store } from '../store/store.js';
import { exportBag } from '../vault/bagit-export.js';
import { readMasterKeyFile } from '../vault/master-key.js';
import { Vault } from '../vault/vault.js';
import { VaultError } from '../vault/vault-error.js';
import { CliError, EXIT_OK, usageError } from './cli-error.js';
import { parsePositiveId, POSITIVE_ID_RANGE } from '../core/positive-id.js';

type Env = Readonly<Record<string, string | undefined>>;

export const EXPORT_USAGE = 'archive-seal export --bag DIR [--registration ID]... [--period ID]... [--data-dir DIR]';

const EXPORTER = { accountId: 0, name: 'export', role: 'admin' as const, pseudonymous: false };

/**
 * `archive-seal export --bag DIR`: a BagIt (RFC 8493) bag of the chosen registrations (and
 * every registration of the chosen periods), for a disc or disk kept offline. Reads the
 * center's data directory directly (it may be running); originals are decrypted with the master
 * key and checked on the way out.
 */
export async function exportCommand(args: string[], env: Env): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      bag: { type: 'string' },
      registration: { type: 'string', multiple: true },
      period: { type: 'string', multiple: true },
      'data-dir': { type: 'string' },
    },
  });
  if (positionals.length > 0 || !values.bag) throw usageError(`usage: ${EXPORT_USAGE}`);
  const ids = (list: string[] | undefined, what: string) =>
    (list ?? []).map((v) => {
      const id = parsePositiveId(v);
      if (id === undefined) throw usageError(`--${what} ${v} is not an id (${POSITIVE_ID_RANGE})`);
      return id;
    });
  const registrationIds = ids(values.registration, 'registration');
  const periodIds = ids(values.period, 'period');
  if (registrationIds.length + periodIds.length === 0) throw usageError(`choose what to export with --registration ID or --period ID\nusage: ${EXPORT_USAGE}`);
  const config = loadConfig(values['data-dir'] === undefined ? env : { ...env, ARCHIVE_SEAL_DATA_DIR: values['data-dir'] });
  const databaseFile = join(config.dataDir, 'archive-seal.sqlite');
  if (config.databaseUrl === undefined && !existsSync(databaseFile)) throw usageError(`there is no center in ${config.dataDir}`);
  const masterKey = readMasterKeyFile(config.backup.masterKeyFile);
  if (!masterKey) throw new CliError(`the master key ${config.backup.masterKeyFile} is missing: originals cannot be decrypted`);
  const pki = loadCenterPki(readPkiSetSource(config.pkiDir));
  const store = await Store.open({ file: databaseFile, url: config.databaseUrl, synchronous: config.sqliteSynchronous });
  const vault = new Vault({ root: join(config.dataDir, 'blobs'), store, masterKey });
  try {
    if (Vault.loadMasterKey(store, config.backup.masterKeyFile).id !== masterKey.id) throw new CliError('the master key does not match the vault');
    const reader = new RegistrationReader(store);
    const issuer = new CertificateIssuer({ store, reader, pki, center: { id: config.centerId, name: config.centerName }, chains: () => [] });
    // An id the center does not have is a failure (exit 1), not bad usage: the command was well formed.
    for (const id of registrationIds) if (!findRegistration(store, id)) throw new CliError(`there is no registration ${id}`);
    for (const id of periodIds) if (!findPeriod(store, id)) throw new CliError(`there is no period ${id}`);
    const dir = resolve(values.bag);
    const result = await exportBag({
      store,
      vault,
      reader,
      dir,
      registrationIds,
      periodIds,
      center: { id: config.centerId, name: config.centerName },
      certificateOf: (id) => {
        try {
          return issuer.issue(EXPORTER, id).certificate;
        } catch {
          return undefined; // not yet anchored: the registration view with its proof is in the bag
        }
      },
    });
    process.stdout.write(
      `bag written to ${dir}: ${result.registrations} registrations, ${result.originals} originals, ${result.payloadFiles} payload files, ${result.payloadBytes} bytes\n`,
    );
    return EXIT_OK;
  } catch (err) {
    if (err instanceof VaultError && err.code === 'INVALID_REQUEST') throw usageError(err.message);
    throw err;
  } finally {
    await vault.close();
    store.close();
  }
}
