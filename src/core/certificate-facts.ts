import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { bytesToHex } from '@noble/hashes/utils.js';
import { DEVELOPMENT_CERTIFICATE_POLICY_OID } from './development-marker.js';
import {
  OID_EXT_BASIC_CONSTRAINTS,
  OID_EXT_CERTIFICATE_POLICIES,
  OID_EXT_EXTENDED_KEY_USAGE,
  OID_EXT_KEY_USAGE,
  OID_ANY_EXTENDED_KEY_USAGE,
  OID_KP_DOCUMENT_SIGNING,
  OID_KP_EMAIL_PROTECTION,
  OID_KP_TIME_STAMPING,
} from './pki-oids.js';

/** Key usage bit names in RFC 5280 §4.2.1.3 order. */
const KEY_USAGE_BITS = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;

/** A key usage bit name (RFC 5280 §4.2.1.3). */
export type KeyUsageName = (typeof KEY_USAGE_BITS)[number];

/** What verification and key management need to know about one X.509 certificate. */
export interface CertificateFacts {
  /** Subject as an RFC 4514 string, most specific first (`CN=…,OU=…,O=…`). */
  subject: string;
  issuer: string;
  /** Serial number: lowercase hex of its unsigned magnitude. */
  serial: string;
  notBefore: Date;
  notAfter: Date;
  isCA: boolean;
  /** Key usage bits set, or null when the extension is absent. */
  keyUsage: KeyUsageName[] | null;
  /** Extended key usage, or null when absent. `count` is how many EKU extensions appear. */
  extendedKeyUsage: { critical: boolean; purposes: string[]; count: number } | null;
  /** Certificate policy OIDs (RFC 5280 §4.2.1.4). */
  policies: string[];
  /** True when the certificate carries the development policy OID: not for evidence. */
  isDevelopment: boolean;
}

/** Parses DER into a pkijs certificate; throws on anything that is not one. */
export function parseCertificateDer(der: Uint8Array): pkijs.Certificate {
  return pkijs.Certificate.fromBER(asArrayBufferView(der));
}

/** `bytes` typed as backed by a plain ArrayBuffer, as WebCrypto and pkijs' typings require. */
export function asArrayBufferView(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
}

/** Facts already read, per parsed certificate (parsed certificates are cached by their DER). */
const factsCache = new WeakMap<pkijs.Certificate, CertificateFacts>();

/** Reads the facts of a parsed certificate. Throws only on a malformed extension. */
export function readCertificateFacts(cert: pkijs.Certificate): CertificateFacts {
  let facts = factsCache.get(cert);
  if (!facts) {
    facts = readFactsOnce(cert);
    factsCache.set(cert, facts);
  }
  return facts;
}

function readFactsOnce(cert: pkijs.Certificate): CertificateFacts {
  let isCA = false;
  let keyUsage: KeyUsageName[] | null = null;
  let extendedKeyUsage: CertificateFacts['extendedKeyUsage'] = null;
  const policies: string[] = [];
  for (const ext of cert.extensions ?? []) {
    switch (ext.extnID) {
      case OID_EXT_BASIC_CONSTRAINTS: {
        const bc = ext.parsedValue as pkijs.BasicConstraints | undefined;
        isCA = bc?.cA === true;
        break;
      }
      case OID_EXT_KEY_USAGE: {
        const bits = ext.parsedValue as asn1js.BitString | undefined;
        const view = bits?.valueBlock.valueHexView ?? new Uint8Array();
        keyUsage = KEY_USAGE_BITS.filter((_, i) => ((view[i >> 3] ?? 0) & (0x80 >> (i & 7))) !== 0);
        break;
      }
      case OID_EXT_EXTENDED_KEY_USAGE: {
        const eku = ext.parsedValue as pkijs.ExtKeyUsage | undefined;
        const purposes = eku?.keyPurposes ?? [];
        // A repeated extension is itself a fault (RFC 5280 §4.2); keep count so callers can see it.
        const previous = extendedKeyUsage as CertificateFacts['extendedKeyUsage'];
        extendedKeyUsage = {
          critical: ext.critical && (previous?.critical ?? true),
          purposes: [...(previous?.purposes ?? []), ...purposes],
          count: (previous?.count ?? 0) + 1,
        };
        break;
      }
      case OID_EXT_CERTIFICATE_POLICIES: {
        const cp = ext.parsedValue as pkijs.CertificatePolicies | undefined;
        for (const info of cp?.certificatePolicies ?? []) policies.push(info.policyIdentifier);
        break;
      }
      default:
        break;
    }
  }
  return {
    subject: formatDistinguishedName(cert.subject),
    issuer: formatDistinguishedName(cert.issuer),
    serial: integerToHex(cert.serialNumber),
    notBefore: cert.notBefore.value,
    notAfter: cert.notAfter.value,
    isCA,
    keyUsage,
    extendedKeyUsage,
    policies,
    isDevelopment: policies.includes(DEVELOPMENT_CERTIFICATE_POLICY_OID),
  };
}

/**
 * Why a certificate may not sign the center's documents (certificates, receipts, period
 * bundles), or null when it may (RFC 5280 §4.2.1.3, §4.2.1.12). As OpenSSL's smimesign purpose,
 * which `openssl cms -verify` applies: an end entity whose key usage, when present, allows
 * digitalSignature or nonRepudiation, and whose extended key usage, when present, allows
 * emailProtection (or documentSigning, or any purpose). A TSA's or a peer center's TLS
 * certificate from the same root may not: chaining to the root is not enough.
 */
export function documentSigningProblem(facts: CertificateFacts): string | null {
  if (facts.isCA) return 'the signer certificate is a CA certificate, not an end entity';
  if (facts.keyUsage && !facts.keyUsage.some((u) => u === 'digitalSignature' || u === 'nonRepudiation')) {
    return "the signer certificate's key usage allows neither digitalSignature nor nonRepudiation";
  }
  const eku = facts.extendedKeyUsage;
  const ok = [OID_KP_EMAIL_PROTECTION, OID_KP_DOCUMENT_SIGNING, OID_ANY_EXTENDED_KEY_USAGE];
  if (eku && !eku.purposes.some((p) => ok.includes(p))) {
    return "the signer certificate's extended key usage allows neither emailProtection nor documentSigning: it is not the center's document signing certificate";
  }
  return null;
}

/**
 * Why a certificate may not sign timestamps, or null when it may. RFC 3161 §2.3: exactly one
 * extended key usage extension, critical, whose only purpose is id-kp-timeStamping; like
 * OpenSSL's timestampsign purpose, a key usage, when present, allows only digitalSignature
 * and nonRepudiation.
 */
export function timestampSigningProblem(facts: CertificateFacts): string | null {
  const eku = facts.extendedKeyUsage;
  if (!eku) return 'the TSA certificate has no extended key usage extension';
  if (eku.count !== 1) return 'the TSA certificate has more than one extended key usage extension';
  if (!eku.critical) return 'the TSA certificate\'s extended key usage is not critical';
  if (eku.purposes.length !== 1 || eku.purposes[0] !== OID_KP_TIME_STAMPING) {
    return 'the TSA certificate\'s extended key usage is not id-kp-timeStamping alone';
  }
  const ku = facts.keyUsage;
  if (ku) {
    const allowed = ku.every((u) => u === 'digitalSignature' || u === 'nonRepudiation');
    if (!allowed || ku.length === 0) {
      return 'the TSA certificate\'s key usage allows more than digitalSignature/nonRepudiation';
    }
  }
  return null;
}

/** Short names of RFC 4514 §3, and a few the PKIX world prints by name. */
const ATTRIBUTE_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.6': 'C',
  '2.5.4.9': 'STREET',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
  '2.5.4.5': 'SERIALNUMBER',
  '2.5.4.97': 'organizationIdentifier',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

/** An X.500 name as an RFC 4514 string: RDNs last-to-first, values escaped per §2.4. */
export function formatDistinguishedName(name: pkijs.RelativeDistinguishedNames): string {
  return [...name.typesAndValues]
    .reverse()
    .map((tv) => `${ATTRIBUTE_NAMES[tv.type] ?? tv.type}=${formatAttributeValue(tv.value)}`)
    .join(',');
}

function formatAttributeValue(value: unknown): string {
  const block = (value as { valueBlock?: { value?: unknown } }).valueBlock;
  if (block && typeof block.value === 'string') return escapeRfc4514(block.value);
  // RFC 4514 §2.4: a value that is not a string is written as '#' and the hex of its BER.
  const ber = (value as asn1js.BaseBlock).toBER(false);
  return `#${bytesToHex(new Uint8Array(ber))}`;
}

function escapeRfc4514(s: string): string {
  let out = s.replace(/[\\",+;<>=]/g, (c) => `\\${c}`).replace(/\u0000/g, '\\00');
  if (out.startsWith(' ') || out.startsWith('#')) out = `\\${out}`;
  if (out.endsWith(' ') && out.length > 1) out = `${out.slice(0, -1)}\\ `;
  return out;
}

/** Lowercase hex of an ASN.1 INTEGER's unsigned magnitude (leading 0x00 sign octets dropped). */
export function integerToHex(value: asn1js.Integer): string {
  let view = value.valueBlock.valueHexView;
  let start = 0;
  while (start < view.length - 1 && view[start] === 0) start++;
  view = view.subarray(start);
  return bytesToHex(view);
}
