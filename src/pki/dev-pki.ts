import { fileURLToPath } from 'node:url';
import { parseCertificateDer, readCertificateFacts } from '../core/certificate-facts.js';
import { DEVELOPMENT_CERTIFICATE_POLICY_OID } from '../core/development-marker.js';
import { pemToDer } from '../core/pem.js';
import { readFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import { join } from 'node:path';
import { loadCenterPki, type CenterPki, type CenterPkiSource } from './center-pki.js';
import { generateEcKey, issueCertificate, privateKeyToPem, type DistinguishedName } from './certificate-factory.js';
import { issuePkiSet, PKI_FILE_NAMES, readPkiSetSource, type PkiSetFiles } from './key-management.js';

/**
 * The development PKI: a root, a center signer and a TSA whose names say, and whose policy OID
 * marks, that nothing they sign is evidence. Its files in `certs/dev/` are committed, private
 * keys included, so tests and the embedded default share one trust root and old test vectors
 * keep verifying.
 */

/** Organization written into every development certificate. */
export const DEVELOPMENT_ORGANIZATION = 'Archive Seal DEVELOPMENT';
/** Organizational unit written into every development certificate. */
export const DEVELOPMENT_UNIT = 'NOT FOR EVIDENCE - development and tests only';

/** `certs/dev/` of this repository (the same path from `src/pki/` under tsx and `dist/pki/`). */
export const DEVELOPMENT_CERTS_DIR = fileURLToPath(new URL('../../certs/dev/', import.meta.url));

/**
 * Issues a fresh development set: root (20 years), center signer and TSA (5 years), all with the
 * development certificate policy. `scripts/make-dev-certs.ts` writes it to `certs/dev/` once.
 */
export function makeDevelopmentPki(options: { notBefore?: Date } = {}): PkiSetFiles {
  return issuePkiSet({
    root: developmentName('Archive Seal DEVELOPMENT Root CA - NOT FOR EVIDENCE'),
    center: DEVELOPMENT_CENTER_NAME,
    tsa: developmentName('Archive Seal DEVELOPMENT TSA - NOT FOR EVIDENCE'),
    policies: [DEVELOPMENT_CERTIFICATE_POLICY_OID],
    ...(options.notBefore ? { notBefore: options.notBefore } : {}),
  });
}

/**
 * A new center signer (EC P-256 key, 5 years) under the development root in `dir`, which is kept:
 * what the old signer signed, test vectors included, still chains to it. Valid from the root's
 * own start unless `notBefore` says otherwise (tests that sign at times since then keep working);
 * once five years past the root's start, pass `notBefore` or the certificate is born expired.
 */
export function reissueDevelopmentCenter(dir: string = DEVELOPMENT_CERTS_DIR, options: { notBefore?: Date } = {}): Pick<PkiSetFiles, 'centerCertPem' | 'centerKeyPem'> {
  const rootPem = readFileSync(join(dir, PKI_FILE_NAMES.rootCertPem), 'utf8');
  const notBefore = options.notBefore ?? readCertificateFacts(parseCertificateDer(pemToDer(rootPem))).notBefore;
  const key = generateEcKey();
  return {
    centerCertPem: issueCertificate({
      profile: 'document-signer',
      subject: DEVELOPMENT_CENTER_NAME,
      subjectKey: key,
      issuer: { certificatePem: rootPem, privateKey: createPrivateKey(readFileSync(join(dir, PKI_FILE_NAMES.rootKeyPem), 'utf8')) },
      notBefore,
      notAfter: new Date(notBefore.getTime() + Math.round(5 * 365.25 * 86_400_000)),
      policies: [DEVELOPMENT_CERTIFICATE_POLICY_OID],
    }),
    centerKeyPem: privateKeyToPem(key),
  };
}

function developmentName(commonName: string): DistinguishedName {
  return { commonName, organizationalUnit: DEVELOPMENT_UNIT, organization: DEVELOPMENT_ORGANIZATION };
}

const DEVELOPMENT_CENTER_NAME = developmentName('Archive Seal DEVELOPMENT Center - NOT FOR EVIDENCE');

/**
 * True when the certificate (PEM or DER) carries the development certificate policy
 * {@link DEVELOPMENT_CERTIFICATE_POLICY_OID}. False for anything else, including junk.
 */
export function isDevelopmentCertificate(certificate: string | Uint8Array): boolean {
  try {
    const der = typeof certificate === 'string' ? pemToDer(certificate) : certificate;
    return readCertificateFacts(parseCertificateDer(der)).isDevelopment;
  } catch {
    return false;
  }
}

/** The committed development set as a loader source. */
export function readDevelopmentPkiSource(dir: string = DEVELOPMENT_CERTS_DIR): CenterPkiSource {
  return readPkiSetSource(dir);
}

/** Loads the committed development PKI (checked like any other). */
export function loadDevelopmentPki(dir: string = DEVELOPMENT_CERTS_DIR, options: { at?: Date } = {}): CenterPki {
  return loadCenterPki(readDevelopmentPkiSource(dir), options);
}
