/**
 * Shared pieces of the PKI tests: temp directories that are removed afterwards, running the real
 * `openssl`, the committed development PKI, and a second, unrelated PKI to play the stranger.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { loadCenterPki, type CenterPki } from '../../src/pki/center-pki.js';
import { DEVELOPMENT_CERTS_DIR, loadDevelopmentPki } from '../../src/pki/dev-pki.js';
import { issuePkiSet, type PkiSetFiles } from '../../src/pki/key-management.js';

export const OPENSSL = '/usr/bin/openssl';

/** A fresh temp directory, removed when the test file finishes. */
export function useTempDir(prefix = 'archive-seal-pki-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs openssl with `args` in `cwd`; never throws, returns the exit status and output. */
export function openssl(args: string[], cwd: string, input?: Uint8Array): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(OPENSSL, args, { cwd, input, encoding: 'buffer', timeout: 30_000 });
  return {
    status: result.status ?? -1,
    stdout: result.stdout?.toString('utf8') ?? '',
    stderr: result.stderr?.toString('utf8') ?? '',
  };
}

/** Writes files into `dir`; returns `dir`. */
export function writeFiles(dir: string, files: Record<string, string | Uint8Array>): string {
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

export { DEVELOPMENT_CERTS_DIR };

let dev: CenterPki | undefined;
/** The committed development PKI (certs/dev). */
export function devPki(): CenterPki {
  dev ??= loadDevelopmentPki();
  return dev;
}

let strangerFiles: PkiSetFiles | undefined;
/** A second, unrelated PKI: same shape, different root. Nothing it signs should be trusted. */
export function strangerPkiFiles(): PkiSetFiles {
  strangerFiles ??= issuePkiSet({
    root: { commonName: 'Stranger Root CA', organization: 'Stranger' },
    center: { commonName: 'Stranger Center', organization: 'Stranger' },
    tsa: { commonName: 'Stranger TSA', organization: 'Stranger' },
  });
  return strangerFiles;
}

let stranger: CenterPki | undefined;
export function strangerPki(): CenterPki {
  const f = strangerPkiFiles();
  stranger ??= loadCenterPki({
    rootPem: f.rootCertPem,
    centerCertPem: f.centerCertPem,
    centerKeyPem: f.centerKeyPem,
    tsaCertPem: f.tsaCertPem,
    tsaKeyPem: f.tsaKeyPem,
  });
  return stranger;
}

/**
 * An `openssl ts -reply` configuration (see openssl-ts(1), "CONFIGURATION FILE OPTIONS") for a
 * TSA using the given certificate and key files in `dir`.
 */
export function writeOpensslTsaConfig(
  dir: string,
  options: { certFile: string; keyFile: string; essAlg?: 'sha1' | 'sha256'; policy?: string },
): string {
  writeFiles(dir, {
    'tsaserial': '01\n',
    'tsa.cnf': [
      '[ tsa ]',
      'default_tsa = tsa_config',
      '[ tsa_config ]',
      `serial = ${join(dir, 'tsaserial')}`,
      'crypto_device = builtin',
      `signer_cert = ${join(dir, options.certFile)}`,
      `signer_key = ${join(dir, options.keyFile)}`,
      'signer_digest = sha256',
      `default_policy = ${options.policy ?? '1.2.3.4.1'}`,
      'digests = sha256, sha384',
      'accuracy = secs:1, millisecs:500',
      'clock_precision_digits = 3',
      'ordering = no',
      'tsa_name = yes',
      'ess_cert_id_chain = no',
      `ess_cert_id_alg = ${options.essAlg ?? 'sha256'}`,
      '',
    ].join('\n'),
  });
  return join(dir, 'tsa.cnf');
}
