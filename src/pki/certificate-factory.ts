import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import type * as Forge from 'node-forge';
import { derToPem, pemToDer } from '../core/pem.js';
import { OID_ECDSA_WITH_SHA256, OID_EXT_CERTIFICATE_POLICIES, OID_EXT_SUBJECT_KEY_IDENTIFIER, OID_KP_DOCUMENT_SIGNING } from '../core/pki-oids.js';
import { decodeOid, derChildren, readDer, type DerElement } from './der-reader.js';
import { derContext, derOctetString, derOid, derSequence, derTlv, TAG } from './der-writer.js';
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
  /**
   * The subject's key pair: RSA, or EC P-256 under an issuer (the center's signer: ECDSA
   * signs a receipt in ~30 µs where RSA-2048 takes ~400 µs).
   */
  subjectKey: KeyObject;
  /** The issuer's certificate (PEM) and RSA private key; absent for a self-signed (RSA) root. */
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

/** A fresh EC key pair on P-256 (secp256r1), for ECDSA with SHA-256. */
export function generateEcKey(): KeyObject {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
}

/** PKCS#8 PEM of a private key. */
export function privateKeyToPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/**
 * Issues an X.509 v3 certificate with node-forge and returns its PEM. Signing uses forge's RSA
 * (slow, but a handful of certificates is nothing); the serial is 16 random octets, positive.
 * forge encodes only RSA keys, so an EC subject key is certified by writing the certificate for
 * a stand-in (the issuer's public key), then putting the EC key and its key identifier in its
 * place and signing the result again with node:crypto.
 */
export function issueCertificate(spec: CertificateSpec): string {
  const ecSubject = spec.subjectKey.asymmetricKeyType === 'ec';
  if (ecSubject) requireP256(spec.subjectKey);
  if (ecSubject && !spec.issuer) throw new PkiError('UNSUPPORTED_KEY', 'a self-signed root needs an RSA key here');
  const cert = forge.pki.createCertificate();
  cert.publicKey = toForgePublicKey(ecSubject ? spec.issuer!.privateKey : spec.subjectKey);
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
  const pem = forge.pki.certificateToPem(cert);
  return ecSubject ? rekeyCertificate(pem, spec.subjectKey, signingKey) : pem;
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
  const ecKey = key.asymmetricKeyType === 'ec';
  if (ecKey) requireP256(key);
  // forge writes the request; for an EC key it signs with a throwaway RSA key, replaced below.
  const writingKey = ecKey ? generateRsaKey(1024) : key;
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = toForgePublicKey(writingKey);
  csr.setSubject(nameAttributes(subject));
  csr.setAttributes([{ name: 'extensionRequest', extensions: profileExtensions(profile) }]);
  csr.sign(toForgePrivateKey(writingKey), forge.md.sha256.create());
  const pem = forge.pki.certificationRequestToPem(csr);
  return ecKey ? rekeyCertificateRequest(pem, key) : pem;
}

/**
 * `certificatePem` (signed by `issuerKey`, RSA) with `subjectKey`'s SubjectPublicKeyInfo and
 * subjectKeyIdentifier (RFC 5280 §4.2.1.2 method 1: SHA-1 of the public key bits), signed again.
 */
function rekeyCertificate(certificatePem: string, subjectKey: KeyObject, issuerKey: KeyObject): string {
  const [tbs, signatureAlgorithm] = derChildren(readDer(pemToDer(certificatePem)));
  // TBSCertificate: version [0], serial, signature, issuer, validity, subject, spki, extensions [3].
  const fields = derChildren(tbs!);
  const spki = subjectPublicKeyInfo(subjectKey);
  const keyId = createHash('sha1').update(publicKeyBits(spki)).digest();
  const extensions = derChildren(derChildren(fields[7]!)[0]!).map((extension) =>
    extensionOid(extension) === OID_EXT_SUBJECT_KEY_IDENTIFIER
      ? derSequence(derOid(OID_EXT_SUBJECT_KEY_IDENTIFIER), derOctetString(derOctetString(keyId)))
      : extension.der,
  );
  const rekeyed = derSequence(...fields.slice(0, 6).map((f) => f.der), spki, derContext(3, derSequence(...extensions)));
  const signature = sign('sha256', rekeyed, issuerKey);
  return derToPem(derSequence(rekeyed, signatureAlgorithm!.der, bitString(signature)));
}

/** `requestPem` with `key`'s SubjectPublicKeyInfo, signed by `key` (ecdsa-with-SHA256, RFC 5758 §3.2). */
function rekeyCertificateRequest(requestPem: string, key: KeyObject): string {
  const [info] = derChildren(readDer(pemToDer(requestPem, 'CERTIFICATE REQUEST')));
  // CertificationRequestInfo: version, subject, subjectPKInfo, attributes [0] (RFC 2986 §4.1).
  const [version, subject, , attributes] = derChildren(info!);
  const rekeyed = derSequence(version!.der, subject!.der, subjectPublicKeyInfo(key), attributes!.der);
  const signature = sign('sha256', rekeyed, key);
  return derToPem(derSequence(rekeyed, derSequence(derOid(OID_ECDSA_WITH_SHA256)), bitString(signature)), 'CERTIFICATE REQUEST');
}

function subjectPublicKeyInfo(key: KeyObject): Uint8Array {
  return new Uint8Array(createPublicKey(key).export({ type: 'spki', format: 'der' }));
}

/** The subjectPublicKey BIT STRING's bits (after its unused-bits octet). */
function publicKeyBits(spki: Uint8Array): Uint8Array {
  return derChildren(readDer(spki))[1]!.content.subarray(1);
}

function extensionOid(extension: DerElement): string {
  return decodeOid(derChildren(extension)[0]!.content);
}

function bitString(bytes: Uint8Array): Uint8Array {
  return derTlv(TAG.BIT_STRING, Uint8Array.of(0), bytes);
}

function requireP256(key: KeyObject): void {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (curve !== 'prime256v1') throw new PkiError('UNSUPPORTED_KEY', `only EC keys on P-256 are supported here (got the curve ${curve ?? 'unknown'})`);
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
      `only RSA and EC P-256 keys are supported here, and only RSA keys sign certificates (got ${key.asymmetricKeyType ?? 'unknown'}); use an outside CA for other key types`,
    );
  }
}
