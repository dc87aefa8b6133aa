import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import {
  documentSigningProblem,
  parseCertificateDer,
  readCertificateFacts,
  timestampSigningProblem,
  type CertificateFacts,
} from '../core/certificate-facts.js';
import { derToPem, pemCertificatesToDer } from '../core/pem.js';
import { PkiError } from './pki-error.js';
import type { SigningIdentity } from './signed-data-builder.js';

/** A parsed certificate in the forms callers need. */
export interface LoadedCertificate {
  pem: string;
  der: Uint8Array;
  x509: X509Certificate;
  facts: CertificateFacts;
}

/** A signer (center or TSA): its certificate, key and the path up to a trusted root. */
export interface LoadedSigner extends SigningIdentity {
  certificate: LoadedCertificate;
  /** CA certificates from the issuer up to and including the root. */
  path: LoadedCertificate[];
}

/** The center's keys and certificates, checked and ready to sign. */
export interface CenterPki {
  roots: LoadedCertificate[];
  center: LoadedSigner;
  tsa: LoadedSigner;
  /** True when the center or TSA certificate is a development one: nothing it signs is evidence. */
  isDevelopment: boolean;
}

/** PEM inputs of {@link loadCenterPki}. */
export interface CenterPkiSource {
  /** The trust root (or several, in `rootPems`). Each string may hold more than one certificate. */
  rootPem?: string;
  rootPems?: readonly string[];
  /** The center's certificate; CA certificates that follow it in the same text join the chain. */
  centerCertPem: string;
  /** PKCS#8 or PKCS#1 private key, unencrypted. */
  centerKeyPem: string;
  tsaCertPem: string;
  tsaKeyPem: string;
  /** Intermediate CA certificates, for certificates from an outside CA. */
  chainPems?: readonly string[];
}

/** One thing wrong with a set of keys and certificates. */
export interface PkiProblem {
  code:
    | 'CERTIFICATE_UNREADABLE'
    | 'KEY_UNREADABLE'
    | 'KEY_MISMATCH'
    | 'ROOT_INVALID'
    | 'CHAIN_INVALID'
    | 'CERTIFICATE_NOT_VALID_NOW'
    | 'TSA_EKU_INVALID'
    | 'CENTER_USAGE_INVALID';
  message: string;
}

/**
 * Checks a set of keys and certificates without throwing: each certificate matches its key,
 * chains (through `chainPems`) to one of the roots and is valid at `at`; the TSA certificate has
 * the critical id-kp-timeStamping EKU (RFC 3161 §2.3); the center certificate may sign documents.
 * Returns the loaded PKI when there is no problem.
 */
export function inspectCenterPki(
  source: CenterPkiSource,
  options: { at?: Date } = {},
): { pki: CenterPki | null; problems: PkiProblem[] } {
  const problems: PkiProblem[] = [];
  const at = options.at ?? new Date();
  const read = (text: string, what: string): LoadedCertificate[] => {
    try {
      const ders = pemCertificatesToDer(text);
      if (ders.length === 0) throw new Error('no CERTIFICATE block');
      return ders.map(loadCertificate);
    } catch (e) {
      problems.push({ code: 'CERTIFICATE_UNREADABLE', message: `${what}: ${(e as Error).message}` });
      return [];
    }
  };
  const roots = [...(source.rootPem ? [source.rootPem] : []), ...(source.rootPems ?? [])].flatMap((p) =>
    read(p, 'root certificate'),
  );
  if (roots.length === 0 && problems.length === 0) {
    problems.push({ code: 'ROOT_INVALID', message: 'no root certificate was given' });
  }
  for (const root of roots) {
    if (!root.facts.isCA || !root.x509.checkIssued(root.x509) || !root.x509.verify(root.x509.publicKey)) {
      problems.push({ code: 'ROOT_INVALID', message: `${root.facts.subject} is not a self-signed CA certificate` });
    }
  }
  const [centerCert, ...centerExtra] = read(source.centerCertPem, 'center certificate');
  const [tsaCert, ...tsaExtra] = read(source.tsaCertPem, 'TSA certificate');
  const pool = [
    ...(source.chainPems ?? []).flatMap((p) => read(p, 'chain certificate')),
    ...centerExtra,
    ...tsaExtra,
  ];

  const signer = (
    cert: LoadedCertificate | undefined,
    keyPem: string,
    what: 'center' | 'TSA',
  ): LoadedSigner | null => {
    if (!cert) return null;
    let key: KeyObject;
    try {
      key = createPrivateKey(keyPem);
    } catch (e) {
      problems.push({ code: 'KEY_UNREADABLE', message: `${what} key: ${(e as Error).message}` });
      return null;
    }
    const fromKey = createPublicKey(key).export({ type: 'spki', format: 'der' });
    const fromCert = cert.x509.publicKey.export({ type: 'spki', format: 'der' });
    if (!fromKey.equals(fromCert)) {
      problems.push({ code: 'KEY_MISMATCH', message: `the ${what} key does not belong to ${cert.facts.subject}` });
      return null;
    }
    const path = buildPath(cert, pool, roots);
    if (typeof path === 'string') {
      problems.push({ code: 'CHAIN_INVALID', message: `${what} certificate ${cert.facts.subject}: ${path}` });
      return null;
    }
    for (const c of [cert, ...path]) {
      if (c.facts.notBefore > at || c.facts.notAfter < at) {
        problems.push({
          code: 'CERTIFICATE_NOT_VALID_NOW',
          message: `${c.facts.subject} is valid ${c.facts.notBefore.toISOString()} to ${c.facts.notAfter.toISOString()}, not at ${at.toISOString()}`,
        });
      }
    }
    return { certificate: cert, certificateDer: cert.der, privateKey: key, chainDer: path.map((c) => c.der), path };
  };

  const center = signer(centerCert, source.centerKeyPem, 'center');
  const tsa = signer(tsaCert, source.tsaKeyPem, 'TSA');
  if (tsa) {
    const problem = timestampSigningProblem(tsa.certificate.facts);
    if (problem) problems.push({ code: 'TSA_EKU_INVALID', message: problem });
  }
  if (center) {
    const problem = documentSigningProblem(center.certificate.facts);
    if (problem) problems.push({ code: 'CENTER_USAGE_INVALID', message: problem });
  }
  if (problems.length > 0 || !center || !tsa) return { pki: null, problems };
  return {
    pki: {
      roots,
      center,
      tsa,
      isDevelopment: center.certificate.facts.isDevelopment || tsa.certificate.facts.isDevelopment,
    },
    problems,
  };
}

/**
 * Loads and checks the center's PKI (see {@link inspectCenterPki}); throws
 * `PkiError('PKI_INVALID')` naming every problem, so a server never starts with a bad key set.
 */
export function loadCenterPki(source: CenterPkiSource, options: { at?: Date } = {}): CenterPki {
  const { pki, problems } = inspectCenterPki(source, options);
  if (!pki) {
    throw new PkiError('PKI_INVALID', `the center's keys and certificates are not usable:\n${problems.map((p) => `- ${p.code}: ${p.message}`).join('\n')}`);
  }
  return pki;
}

/** Parses one DER certificate into a {@link LoadedCertificate}. */
export function loadCertificate(der: Uint8Array): LoadedCertificate {
  return {
    pem: derToPem(der),
    der,
    x509: new X509Certificate(der),
    facts: readCertificateFacts(parseCertificateDer(der)),
  };
}

/** Issuer-first path from `leaf` to a root, or the reason there is none. */
function buildPath(
  leaf: LoadedCertificate,
  pool: readonly LoadedCertificate[],
  roots: readonly LoadedCertificate[],
): LoadedCertificate[] | string {
  const path: LoadedCertificate[] = [];
  let current = leaf;
  const issuedBy = (issuer: LoadedCertificate) =>
    current.x509.checkIssued(issuer.x509) && current.x509.verify(issuer.x509.publicKey);
  for (let depth = 0; depth < 8; depth++) {
    const root = roots.find(issuedBy);
    if (root) return [...path, root];
    const next = pool.find((c) => c !== current && c.facts.isCA && !path.includes(c) && issuedBy(c));
    if (!next) return `no issuer of ${current.facts.subject} among the given roots and chain certificates`;
    path.push(next);
    current = next;
  }
  return 'the certificate chain is longer than 8';
}
