import { createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import type * as Forge from 'node-forge';
import { OID_EXT_CERTIFICATE_POLICIES, OID_KP_DOCUMENT_SIGNING } from '../core/pki-oids.js';
import { derOid, derSequence } from './der-writer.js';
import { forge } from './forge.js';
import { PkiError } from './pki-error.js';

/**
 * What a certificate is for:
 * - `root-ca`: self-signed trust anchor (basicConstraints CA, keyCertSign + cRLSign).
 * - `document-signer`: the center's signer of receipts and certificates (digitalSignature +
 *   nonRepudiation; EKU emailProtection so `openssl cms -verify` accepts it even without
 *   `-purpose any`, and id-kp-documentSigning, RFC 9336, to say what it is for).
 * - `timestamping`: the TSA (EKU id-kp-timeStamping alone and critical, RFC 3161 §2.3).
 */
export type CertificateProfile = 'root-ca' | 'document-signer' | 'timestamping';

/** A subject or issuer name. Strings are written as UTF8String, so any script is fine. */
export interface DistinguishedName {
  commonName: string;
  organization?: string;
  organizationalUnit?: string;
  /** ISO 3166 two-letter code, e.g. `CN`. */
  country?: string;
  province?: string;
  locality?: string;
}

/** A certificate to issue. */
export interface CertificateSpec {
  profile: CertificateProfile;
  subject: DistinguishedName;
  /** The subject's key pair. Only RSA keys can be certified (forge signs and encodes them). */
  subjectKey: KeyObject;
  /** The issuer's certificate (PEM) and private key; absent for a self-signed root. */
  issuer?: { certificatePem: string; privateKey: KeyObject };
  notBefore: Date;
  notAfter: Date;
  /** Certificate policy OIDs (RFC 5280 §4.2.1.4), e.g. the development marker. */
  policies?: readonly string[];
}

/** A fresh RSA-2048 key pair from node:crypto (forge's own generator is far slower). */
export function generateRsaKey(modulusLength = 2048): KeyObject {
  return generateKeyPairSync('rsa', { modulusLength }).privateKey;
}

/** PKCS#8 PEM of a private key. */
export function privateKeyToPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/**
 * Issues an X.509 v3 certificate with node-forge and returns its PEM. Signing uses forge's RSA
 * (slow, but a handful of certificates is nothing); the serial is 16 random octets, positive.
 */
export function issueCertificate(spec: CertificateSpec): string {
  const cert = forge.pki.createCertificate();
  cert.publicKey = toForgePublicKey(spec.subjectKey);
  // RFC 5280 §4.1.2.2: positive, at most 20 octets, unpredictable (CA/B BR ask for 64 bits).
  const serial = randomBytes(16);
  serial[0] = ((serial[0] as number) & 0x7f) | 0x40;
  cert.serialNumber = serial.toString('hex');
  cert.validity.notBefore = spec.notBefore;
  cert.validity.notAfter = spec.notAfter;
  const subjectAttrs = nameAttributes(spec.subject);
  cert.setSubject(subjectAttrs);

  let signingKey: KeyObject;
  let authorityKeyId: string;
  if (spec.issuer) {
    const issuerCert = forge.pki.certificateFromPem(spec.issuer.certificatePem);
    cert.setIssuer(reencodableAttributes(issuerCert.subject.attributes));
    signingKey = spec.issuer.privateKey;
    const ski = issuerCert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | null;
    authorityKeyId = ski?.subjectKeyIdentifier
      ? forge.util.hexToBytes(ski.subjectKeyIdentifier)
      : issuerCert.generateSubjectKeyIdentifier().getBytes();
  } else {
    cert.setIssuer(subjectAttrs);
    signingKey = spec.subjectKey;
    authorityKeyId = cert.generateSubjectKeyIdentifier().getBytes();
  }

  cert.setExtensions([
    ...profileExtensions(spec.profile),
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: authorityKeyId },
    ...(spec.policies && spec.policies.length > 0 ? [certificatePoliciesExtension(spec.policies)] : []),
  ]);
  cert.sign(toForgePrivateKey(signingKey), forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

/**
 * A PKCS#10 request (RFC 2986) for `profile`, with the extensions the center wants asked for
 * in an extensionRequest attribute (RFC 2985 §5.4.2), for an outside CA.
 */
export function createCertificateRequest(
  profile: Exclude<CertificateProfile, 'root-ca'>,
  subject: DistinguishedName,
  key: KeyObject,
): string {
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = toForgePublicKey(key);
  csr.setSubject(nameAttributes(subject));
  csr.setAttributes([{ name: 'extensionRequest', extensions: profileExtensions(profile) }]);
  csr.sign(toForgePrivateKey(key), forge.md.sha256.create());
  return forge.pki.certificationRequestToPem(csr);
}

function profileExtensions(profile: CertificateProfile): object[] {
  switch (profile) {
    case 'root-ca':
      return [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
      ];
    case 'document-signer':
      return [
        { name: 'basicConstraints', cA: false, critical: true },
        { name: 'keyUsage', digitalSignature: true, nonRepudiation: true, critical: true },
        // forge takes known purposes by name and unknown ones (RFC 9336's) by OID.
        { name: 'extKeyUsage', emailProtection: true, [OID_KP_DOCUMENT_SIGNING]: true },
      ];
    case 'timestamping':
      return [
        { name: 'basicConstraints', cA: false, critical: true },
        { name: 'keyUsage', digitalSignature: true, nonRepudiation: true, critical: true },
        // RFC 3161 §2.3: exactly id-kp-timeStamping, and the extension MUST be critical.
        { name: 'extKeyUsage', timeStamping: true, critical: true },
      ];
  }
}

/** certificatePolicies (RFC 5280 §4.2.1.4) with bare PolicyInformation entries. */
function certificatePoliciesExtension(policies: readonly string[]): object {
  const value = derSequence(...policies.map((oid) => derSequence(derOid(oid))));
  return { id: OID_EXT_CERTIFICATE_POLICIES, critical: false, value: forge.util.binary.raw.encode(value) };
}

const NAME_OIDS: [keyof DistinguishedName, string][] = [
  ['country', '2.5.4.6'],
  ['province', '2.5.4.8'],
  ['locality', '2.5.4.7'],
  ['organization', '2.5.4.10'],
  ['organizationalUnit', '2.5.4.11'],
  ['commonName', '2.5.4.3'],
];

/** Name attributes, most general first; countryName is a PrintableString (RFC 5280 App. A). */
function nameAttributes(name: DistinguishedName): Forge.pki.CertificateField[] {
  const attrs: Forge.pki.CertificateField[] = [];
  for (const [field, type] of NAME_OIDS) {
    const value = name[field];
    if (value === undefined || value === '') continue;
    attrs.push({
      type,
      value,
      // @types/node-forge types valueTagClass as a class, but forge reads it as the value's tag.
      valueTagClass: (field === 'country' ? forge.asn1.Type.PRINTABLESTRING : forge.asn1.Type.UTF8) as unknown as Forge.asn1.Class,
    });
  }
  return attrs;
}

/**
 * forge parses a UTF8String into its raw octets but UTF-8-encodes on output, so a name copied
 * from a parsed certificate must be decoded first or non-ASCII issuer names come out garbled
 * (and no longer match the issuer's subject).
 */
function reencodableAttributes(attrs: Forge.pki.CertificateField[]): Forge.pki.CertificateField[] {
  return attrs.map((a) =>
    (a.valueTagClass as unknown) === forge.asn1.Type.UTF8 && typeof a.value === 'string'
      ? { ...a, value: forge.util.decodeUtf8(a.value) }
      : a,
  );
}

function toForgePublicKey(key: KeyObject): Forge.pki.rsa.PublicKey {
  requireRsa(key);
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
}

function toForgePrivateKey(key: KeyObject): Forge.pki.rsa.PrivateKey {
  requireRsa(key);
  if (key.type !== 'private') throw new PkiError('INVALID_ARGUMENT', 'a private key is required to sign');
  return forge.pki.privateKeyFromPem(privateKeyToPem(key)) as Forge.pki.rsa.PrivateKey;
}

function requireRsa(key: KeyObject): void {
  if (key.asymmetricKeyType !== 'rsa') {
    throw new PkiError(
      'UNSUPPORTED_KEY',
      `only RSA keys can be certified here (got ${key.asymmetricKeyType ?? 'unknown'}); use an outside CA for other key types`,
    );
  }
}
