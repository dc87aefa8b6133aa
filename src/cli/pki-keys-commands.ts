import { chmodSync, copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { ensurePrivateDirectorySync, PRIVATE_FILE_MODE } from '../durable-files.js';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CHAIN_FILE_NAME,
  checkImportedPki,
  makeCenterPki,
  makeCertificateRequests,
  PKI_FILE_NAMES,
  readPkiSetSource,
  writePkiSet,
} from '../pki/key-management.js';
import { CliError, EXIT_FAILURE, EXIT_OK, usageError } from './cli-error.js';
import { loadCenterPki } from '../pki/center-pki.js';
import { issueTlsCertificate } from '../vault/peer-tls.js';
import type { KeysSubcommand } from './keys-command.js';

const NAME_OPTIONS = {
  out: { type: 'string' },
  'center-name': { type: 'string' },
  country: { type: 'string' },
  province: { type: 'string' },
  locality: { type: 'string' },
} as const;

function nameOptions(values: { 'center-name'?: string; country?: string; province?: string; locality?: string }) {
  if (!values['center-name']) throw usageError('--center-name is required (the center as its certificates should name it)');
  return {
    centerName: values['center-name'],
    ...(values.country !== undefined && { country: values.country }),
    ...(values.province !== undefined && { province: values.province }),
    ...(values.locality !== undefined && { locality: values.locality }),
  };
}

function pkiFailure(err: unknown): never {
  throw new CliError((err as Error).message);
}

/** The center's own root, signing and TSA certificates (the center is its own CA). */
export const keysInit: KeysSubcommand = {
  usage: 'archive-seal keys init --out DIR --center-name NAME [--country CN] [--province P] [--locality L]   a new root, center and TSA set',
  async run(args) {
    const { values } = parseArgs({ args, options: NAME_OPTIONS });
    if (!values.out) throw usageError('--out DIR is required');
    const names = nameOptions(values);
    let written: string[];
    try {
      written = writePkiSet(resolve(values.out), makeCenterPki(names));
    } catch (err) {
      pkiFailure(err);
    }
    process.stdout.write(`${written.join('\n')}\n`);
    process.stderr.write(
      `keep ${PKI_FILE_NAMES.rootKeyPem} offline; start the center with ARCHIVE_SEAL_PKI_DIR=${resolve(values.out)} and publish ${PKI_FILE_NAMES.rootCertPem} as the trust root\n`,
    );
    return EXIT_OK;
  },
};

/** Keys and PKCS#10 requests for an outside CA. */
export const keysCsr: KeysSubcommand = {
  usage: 'archive-seal keys csr --out DIR --center-name NAME [...]   center and TSA keys and certificate requests for an outside CA',
  async run(args) {
    const { values } = parseArgs({ args, options: NAME_OPTIONS });
    if (!values.out) throw usageError('--out DIR is required');
    const dir = resolve(values.out);
    const names = nameOptions(values);
    const csrFiles = ['center.csr.pem', 'tsa.csr.pem'].map((name) => join(dir, name));
    // Checked before any key is written: new keys beside old requests would not match them.
    for (const file of csrFiles) if (existsSync(file)) throw new CliError(`${file} already exists: choose another --out directory`);
    let requests: ReturnType<typeof makeCertificateRequests>;
    try {
      requests = makeCertificateRequests(names);
      writePkiSet(dir, { centerKeyPem: requests.centerKeyPem, tsaKeyPem: requests.tsaKeyPem });
    } catch (err) {
      pkiFailure(err);
    }
    writeFileSync(csrFiles[0]!, requests.centerCsrPem, { flag: 'wx', mode: PRIVATE_FILE_MODE });
    writeFileSync(csrFiles[1]!, requests.tsaCsrPem, { flag: 'wx', mode: PRIVATE_FILE_MODE });
    process.stdout.write(`${csrFiles.join('\n')}\n`);
    process.stderr.write('send both requests to the CA; the TSA certificate must carry id-kp-timeStamping as its only, critical, EKU\n');
    return EXIT_OK;
  },
};

/** Certificates from an outside CA, checked against the keys before anything uses them. */
export const keysImport: KeysSubcommand = {
  usage: 'archive-seal keys import --dir DIR --root ROOT.pem --center-cert C.pem --tsa-cert T.pem [--chain CA.pem]   check and install an outside CA\'s certificates',
  async run(args) {
    const { values } = parseArgs({
      args,
      options: { dir: { type: 'string' }, root: { type: 'string' }, 'center-cert': { type: 'string' }, 'tsa-cert': { type: 'string' }, chain: { type: 'string' } },
    });
    if (!values.dir || !values.root || !values['center-cert'] || !values['tsa-cert']) {
      throw usageError('--dir, --root, --center-cert and --tsa-cert are required');
    }
    const dir = resolve(values.dir);
    const inputs: [string | undefined, string][] = [
      [values.root, PKI_FILE_NAMES.rootCertPem],
      [values['center-cert'], PKI_FILE_NAMES.centerCertPem],
      [values['tsa-cert'], PKI_FILE_NAMES.tsaCertPem],
      [values.chain, CHAIN_FILE_NAME],
    ];
    for (const [from] of inputs) if (from !== undefined && !existsSync(from)) throw usageError(`cannot read ${from}`);
    for (const key of [PKI_FILE_NAMES.centerKeyPem, PKI_FILE_NAMES.tsaKeyPem]) {
      if (!existsSync(join(dir, key))) throw usageError(`${join(dir, key)} is missing: run keys csr into this directory first`);
    }
    // A chain.pem from an earlier import stays part of the set unless --chain replaces it: check it too.
    const chainFile = values.chain ?? (existsSync(join(dir, CHAIN_FILE_NAME)) ? join(dir, CHAIN_FILE_NAME) : undefined);
    // Check first, from where the files are; install only a set that passes.
    const report = checkImportedPki({
      rootPem: readFileSync(values.root, 'utf8'),
      centerCertPem: readFileSync(values['center-cert'], 'utf8'),
      centerKeyPem: readFileSync(join(dir, PKI_FILE_NAMES.centerKeyPem), 'utf8'),
      tsaCertPem: readFileSync(values['tsa-cert'], 'utf8'),
      tsaKeyPem: readFileSync(join(dir, PKI_FILE_NAMES.tsaKeyPem), 'utf8'),
      ...(chainFile !== undefined && { chainPems: [readFileSync(chainFile, 'utf8')] }),
    });
    if (!report.ok) {
      for (const p of report.problems) process.stderr.write(`problem: ${p.code}: ${p.message}\n`);
      return EXIT_FAILURE;
    }
    for (const [from, name] of inputs) {
      if (from === undefined) continue;
      copyFileSync(from, join(dir, name));
      chmodSync(join(dir, name), PRIVATE_FILE_MODE);
    }
    try {
      loadCenterPki(readPkiSetSource(dir)); // the installed set, loaded as the center will load it
    } catch (err) {
      throw new CliError(`the installed set in ${dir} does not load: ${(err as Error).message}`);
    }
    process.stdout.write(`center: ${report.center?.subject} (until ${report.center?.notAfter.toISOString()})\ntsa: ${report.tsa?.subject} (until ${report.tsa?.notAfter.toISOString()})\n`);
    if (report.isDevelopment) process.stderr.write('warning: these are DEVELOPMENT certificates: not for evidence\n');
    return EXIT_OK;
  },
};

/** A TLS certificate (server and client) for peer replication, issued by the PKI's root. */
export const keysTls: KeysSubcommand = {
  usage: 'archive-seal keys tls --pki-dir DIR --name CENTER_ID --out DIR [--host H]...   a mutual-TLS certificate for peer replication',
  async run(args) {
    const { values } = parseArgs({
      args,
      options: { 'pki-dir': { type: 'string' }, name: { type: 'string' }, out: { type: 'string' }, host: { type: 'string', multiple: true, default: [] } },
    });
    if (!values['pki-dir'] || !values.name || !values.out) throw usageError('--pki-dir, --name and --out are required');
    const pkiDir = resolve(values['pki-dir']);
    const rootKey = join(pkiDir, PKI_FILE_NAMES.rootKeyPem);
    if (!existsSync(rootKey)) throw usageError(`${rootKey} is missing: the root's key issues TLS certificates (or get one from your CA)`);
    const issued = issueTlsCertificate({
      issuerCertPem: readFileSync(join(pkiDir, PKI_FILE_NAMES.rootCertPem), 'utf8'),
      issuerKeyPem: readFileSync(rootKey, 'utf8'),
      commonName: values.name,
      ...(values.host.length > 0 && { hosts: values.host }),
    });
    const out = resolve(values.out);
    ensurePrivateDirectorySync(out);
    writeFileSync(join(out, 'tls.pem'), issued.certPem, { flag: 'wx', mode: PRIVATE_FILE_MODE });
    writeFileSync(join(out, 'tls.key.pem'), issued.keyPem, { flag: 'wx', mode: PRIVATE_FILE_MODE });
    process.stdout.write(`${join(out, 'tls.pem')}\n${join(out, 'tls.key.pem')}\n`);
    process.stderr.write(`set ARCHIVE_SEAL_TLS_CERT and ARCHIVE_SEAL_TLS_KEY to these; peers pin it by its SHA-256 fingerprint or subject CN=${values.name}\n`);
    return EXIT_OK;
  },
};
