import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { ensurePrivateDirectorySync, PRIVATE_FILE_MODE } from '../durable-files.js';
import { createPrivateKey } from 'node:crypto';
import { join } from 'node:path';
import { inspectCenterPki, type CenterPkiSource, type PkiProblem } from './center-pki.js';
import {
  createCertificateRequest,
  generateEcKey,
  generateRsaKey,
  issueCertificate,
  privateKeyToPem,
  type DistinguishedName,
} from './certificate-factory.js';
import { PkiError, validateArgument } from './pki-error.js';

/**
 * Library side of `archive-seal keys init | csr | import`: make a fresh root + center + TSA set,
 * make certificate requests for an outside CA, and check what comes back.
 */

/** A complete key set as PEM text. */
export interface PkiSetFiles {
  rootCertPem: string;
  /** The root's key: keep it offline once the set is made; it is needed only to renew. */
  rootKeyPem: string;
  centerCertPem: string;
  centerKeyPem: string;
  tsaCertPem: string;
  tsaKeyPem: string;
}

/** File names of a key set in a directory (certs/dev uses the same names). */
export const PKI_FILE_NAMES = {
  rootCertPem: 'root-ca.pem',
  rootKeyPem: 'root-ca.key.pem',
  centerCertPem: 'center.pem',
  centerKeyPem: 'center.key.pem',
  tsaCertPem: 'tsa.pem',
  tsaKeyPem: 'tsa.key.pem',
} as const satisfies Record<keyof PkiSetFiles, string>;

/** Optional intermediate certificates from an outside CA, next to the set. */
export const CHAIN_FILE_NAME = 'chain.pem';

/** How to issue a set. */
export interface PkiSetSpec {
  root: DistinguishedName;
  center: DistinguishedName;
  tsa: DistinguishedName;
  /** Certificate policies for every certificate of the set. */
  policies?: readonly string[];
  /** Start of validity; default one hour ago, to absorb clock skew between hosts. */
  notBefore?: Date;
  rootYears?: number;
  leafYears?: number;
  /** RSA modulus length of the root and the TSA; default 2048. */
  keyBits?: number;
}

/**
 * Issues a root CA and, under it, the center's signing certificate and the TSA certificate.
 * The root and the TSA have RSA keys; the center's is EC P-256, because it signs a receipt for
 * every group of registrations, and ECDSA signs in ~30 µs where RSA-2048 takes ~400 µs.
 */
export function issuePkiSet(spec: PkiSetSpec): PkiSetFiles {
  const notBefore = spec.notBefore ?? new Date(Date.now() - 3_600_000);
  const years = (n: number) => new Date(notBefore.getTime() + Math.round(n * 365.25 * 86_400_000));
  const rootKey = generateRsaKey(spec.keyBits);
  const centerKey = generateEcKey();
  const tsaKey = generateRsaKey(spec.keyBits);
  const policies = spec.policies ?? [];
  const rootCertPem = issueCertificate({
    profile: 'root-ca',
    subject: spec.root,
    subjectKey: rootKey,
    notBefore,
    notAfter: years(spec.rootYears ?? 20),
    policies,
  });
  const issuer = { certificatePem: rootCertPem, privateKey: rootKey };
  const leafEnd = years(spec.leafYears ?? 5);
  return {
    rootCertPem,
    rootKeyPem: privateKeyToPem(rootKey),
    centerCertPem: issueCertificate({
      profile: 'document-signer',
      subject: spec.center,
      subjectKey: centerKey,
      issuer,
      notBefore,
      notAfter: leafEnd,
      policies,
    }),
    centerKeyPem: privateKeyToPem(centerKey),
    tsaCertPem: issueCertificate({
      profile: 'timestamping',
      subject: spec.tsa,
      subjectKey: tsaKey,
      issuer,
      notBefore,
      notAfter: leafEnd,
      policies,
    }),
    tsaKeyPem: privateKeyToPem(tsaKey),
  };
}

/** Options of {@link makeCenterPki} and {@link makeCertificateRequests}. */
export interface CenterNameOptions {
  /** The center's name as it should appear in certificates, any script (UTF8String). */
  centerName: string;
  /** ISO 3166 country code; default `CN`. */
  country?: string;
  /** Optional locality / province, as the center is registered. */
  locality?: string;
  province?: string;
}

/** `keys init`: a fresh self-made set (root 20 years, center and TSA 5 years) for `centerName`. */
export function makeCenterPki(options: CenterNameOptions & { now?: Date }): PkiSetFiles {
  const base = centerBaseName(options);
  return issuePkiSet({
    root: { ...base, commonName: `${options.centerName} Root CA` },
    center: { ...base, commonName: options.centerName },
    tsa: { ...base, commonName: `${options.centerName} Time-Stamping Authority` },
    ...(options.now ? { notBefore: options.now } : {}),
  });
}

/**
 * `keys csr`: PKCS#10 requests for the center and TSA certificates, to send to an outside CA.
 * Uses the given keys or makes new ones (the center's EC P-256, the TSA's RSA-2048); returns
 * them so the caller can store them.
 */
export function makeCertificateRequests(
  options: CenterNameOptions & { centerKeyPem?: string; tsaKeyPem?: string },
): { centerCsrPem: string; centerKeyPem: string; tsaCsrPem: string; tsaKeyPem: string } {
  const base = centerBaseName(options);
  const centerKey = options.centerKeyPem ? createPrivateKey(options.centerKeyPem) : generateEcKey();
  const tsaKey = options.tsaKeyPem ? createPrivateKey(options.tsaKeyPem) : generateRsaKey();
  return {
    centerCsrPem: createCertificateRequest('document-signer', { ...base, commonName: options.centerName }, centerKey),
    centerKeyPem: privateKeyToPem(centerKey),
    tsaCsrPem: createCertificateRequest(
      'timestamping',
      { ...base, commonName: `${options.centerName} Time-Stamping Authority` },
      tsaKey,
    ),
    tsaKeyPem: privateKeyToPem(tsaKey),
  };
}

/** What `keys import` reports. */
export interface PkiCheckReport {
  ok: boolean;
  problems: PkiProblem[];
  center?: { subject: string; serial: string; notAfter: Date };
  tsa?: { subject: string; serial: string; notAfter: Date };
  isDevelopment: boolean;
}

/**
 * `keys import`: checks certificates from an outside CA against the keys: each certificate
 * matches its key, chains to the given root, is valid now, and the TSA certificate has the
 * critical id-kp-timeStamping EKU. Never throws for a bad set: the report lists the problems.
 */
export function checkImportedPki(source: CenterPkiSource, options: { at?: Date } = {}): PkiCheckReport {
  const { pki, problems } = inspectCenterPki(source, options);
  if (!pki) return { ok: false, problems, isDevelopment: false };
  const summary = (f: { subject: string; serial: string; notAfter: Date }) => ({
    subject: f.subject,
    serial: f.serial,
    notAfter: f.notAfter,
  });
  return {
    ok: true,
    problems,
    center: summary(pki.center.certificate.facts),
    tsa: summary(pki.tsa.certificate.facts),
    isDevelopment: pki.isDevelopment,
  };
}

/**
 * Writes a set into `dir` under {@link PKI_FILE_NAMES}; keys get mode 0600. Refuses to replace
 * an existing file unless `overwrite` (a replaced root orphans everything signed under it).
 * Returns the paths written.
 */
export function writePkiSet(dir: string, files: Partial<PkiSetFiles>, options: { overwrite?: boolean } = {}): string[] {
  ensurePrivateDirectorySync(dir);
  const entries = (Object.keys(PKI_FILE_NAMES) as (keyof PkiSetFiles)[])
    .filter((k) => files[k] !== undefined)
    .map((k) => ({ key: k, path: join(dir, PKI_FILE_NAMES[k]), text: files[k] as string }));
  if (!options.overwrite) {
    const existing = entries.filter((e) => existsSync(e.path)).map((e) => e.path);
    if (existing.length > 0) throw new PkiError('FILE_EXISTS', `refusing to overwrite ${existing.join(', ')}`);
  }
  for (const e of entries) {
    // Certificates too: every file the center writes is private (the directory is, in any case).
    writeFileSync(e.path, e.text, { mode: PRIVATE_FILE_MODE, flag: options.overwrite ? 'w' : 'wx' });
  }
  return entries.map((e) => e.path);
}

/** Reads a set written by {@link writePkiSet} (plus `chain.pem` when present) as a loader source. */
export function readPkiSetSource(dir: string): CenterPkiSource {
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  const chainPath = join(dir, CHAIN_FILE_NAME);
  return {
    rootPem: read(PKI_FILE_NAMES.rootCertPem),
    centerCertPem: read(PKI_FILE_NAMES.centerCertPem),
    centerKeyPem: read(PKI_FILE_NAMES.centerKeyPem),
    tsaCertPem: read(PKI_FILE_NAMES.tsaCertPem),
    tsaKeyPem: read(PKI_FILE_NAMES.tsaKeyPem),
    ...(existsSync(chainPath) ? { chainPems: [readFileSync(chainPath, 'utf8')] } : {}),
  };
}

function centerBaseName(options: CenterNameOptions): Omit<DistinguishedName, 'commonName'> {
  validateArgument(options.centerName.trim().length > 0, 'the center name must not be empty');
  // RFC 5280 upper bound ub-common-name is 64 characters; leave room for the suffixes above.
  validateArgument(options.centerName.length <= 40, 'the center name must be at most 40 characters (the CN limit is 64 with suffixes)');
  return {
    country: options.country ?? 'CN',
    organization: options.centerName,
    ...(options.province ? { province: options.province } : {}),
    ...(options.locality ? { locality: options.locality } : {}),
  };
}
