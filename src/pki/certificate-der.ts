import { derChildren, expectTag, readDer, type DerElement } from './der-reader.js';
import { TAG } from './der-writer.js';

/** The parts of an X.509 certificate that CMS structures quote byte for byte. */
export interface CertificateDerFields {
  /** The whole certificate. */
  der: Uint8Array;
  /** serialNumber INTEGER, as a complete TLV. */
  serial: Uint8Array;
  /** issuer Name, as a complete TLV. */
  issuer: Uint8Array;
  /** subject Name, as a complete TLV. */
  subject: Uint8Array;
}

/**
 * Reads serial, issuer and subject out of a DER certificate (RFC 5280 §4.1) without
 * interpreting the key, so it works for any key type.
 */
export function readCertificateDerFields(der: Uint8Array): CertificateDerFields {
  const cert = expectTag(readDer(der), TAG.SEQUENCE, 'Certificate');
  const tbs = expectTag(derChildren(cert)[0], TAG.SEQUENCE, 'TBSCertificate');
  const fields = derChildren(tbs);
  // version [0] EXPLICIT is present for v2/v3 certificates.
  const start = fields[0]?.tag === 0xa0 ? 1 : 0;
  const at = (i: number): DerElement => {
    const f = fields[start + i];
    if (!f) throw new Error('truncated TBSCertificate');
    return f;
  };
  return {
    der,
    serial: expectTag(at(0), TAG.INTEGER, 'serialNumber').der,
    issuer: expectTag(at(2), TAG.SEQUENCE, 'issuer').der,
    subject: expectTag(at(4), TAG.SEQUENCE, 'subject').der,
  };
}

/** True when a certificate names itself as its issuer (a root, for our purposes). */
export function isSelfIssued(der: Uint8Array): boolean {
  const f = readCertificateDerFields(der);
  return f.issuer.length === f.subject.length && f.issuer.every((b, i) => b === f.subject[i]);
}
