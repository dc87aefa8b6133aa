import { createHash, sign as cryptoSign, type KeyObject } from 'node:crypto';
import {
  OID_ATTR_CONTENT_TYPE,
  OID_ATTR_MESSAGE_DIGEST,
  OID_ATTR_SIGNING_CERTIFICATE_V2,
  OID_ATTR_SIGNING_TIME,
  OID_DATA,
  OID_ECDSA_WITH_SHA256,
  OID_RSA_ENCRYPTION,
  OID_SHA256,
  OID_SIGNED_DATA,
} from '../core/pki-oids.js';
import { isSelfIssued, readCertificateDerFields } from './certificate-der.js';
import {
  derContext,
  derInteger,
  derNull,
  derOctetString,
  derOid,
  derSequence,
  derSetOf,
  derTime,
} from './der-writer.js';
import { PkiError } from './pki-error.js';

/** A certificate with its private key: the center's signer or the TSA. */
export interface SigningIdentity {
  /** DER of the signer's certificate. */
  certificateDer: Uint8Array;
  /** The private key matching the certificate (RSA or EC), held by node:crypto. */
  privateKey: KeyObject;
  /**
   * CA certificates above the signer, issuer first, DER. A self-issued root may end the list;
   * it is put into signatures only when asked.
   */
  chainDer: readonly Uint8Array[];
}

/** What one signature covers. */
export interface SignedDataInput {
  /** eContentType (RFC 5652 §5.2): id-data for documents, id-ct-TSTInfo for timestamps. */
  eContentType: string;
  /** The content to encapsulate; absent for a detached signature. */
  eContent?: Uint8Array;
  /** SHA-256 of the content (RFC 5652 §5.4 message-digest). */
  contentDigest: Uint8Array;
  /** signing-time attribute (RFC 5652 §11.3); absent: left out (PAdES puts the time in the signature dictionary instead, ETSI EN 319 142-1 §5.2.1). */
  signingTime?: Date;
  /** Put the signer certificate (and its chain) into `certificates`. */
  includeCertificates: boolean;
}

/**
 * Builds CMS SignedData (RFC 5652) for one signer with SHA-256, by hand in DER, and does the
 * private-key operation in node:crypto (forge's pure-JS RSA is ~80× slower). Everything that
 * depends only on the signer (sid, algorithm identifiers, the ESS attribute, the certificate
 * set) is encoded once, in the constructor.
 */
export class SignedDataSigner {
  private readonly sid: Uint8Array;
  private readonly digestAlgorithm: Uint8Array;
  private readonly signatureAlgorithm: Uint8Array;
  private readonly essAttribute: Uint8Array;
  private readonly certificateSet: Uint8Array;
  private readonly key: KeyObject;

  constructor(identity: SigningIdentity, options: { includeRoot?: boolean } = {}) {
    const signer = readCertificateDerFields(identity.certificateDer);
    this.key = identity.privateKey;
    // IssuerAndSerialNumber (RFC 5652 §10.2.4), so signerInfo version is 1 (§5.3).
    this.sid = derSequence(signer.issuer, signer.serial);
    // RFC 5754 §2: SHA-2 AlgorithmIdentifiers are generated with absent parameters.
    this.digestAlgorithm = derSequence(derOid(OID_SHA256));
    this.signatureAlgorithm = signatureAlgorithmFor(identity.privateKey);
    // signing-certificate-v2 (RFC 5035 §3): hash of the whole signer certificate, with
    // issuerSerial; hashAlgorithm is left out because id-sha256 is its DEFAULT (DER).
    const certHash = createHash('sha256').update(identity.certificateDer).digest();
    const issuerSerial = derSequence(derSequence(derContext(4, signer.issuer)), signer.serial);
    const essCertIdV2 = derSequence(derOctetString(certHash), issuerSerial);
    this.essAttribute = attribute(OID_ATTR_SIGNING_CERTIFICATE_V2, derSequence(derSequence(essCertIdV2)));
    const chain = options.includeRoot
      ? identity.chainDer
      : identity.chainDer.filter((der) => !isSelfIssued(der));
    // certificates [0] IMPLICIT CertificateSet: a SET OF, so DER sorts it (X.690 §11.6).
    this.certificateSet = derSetOf([identity.certificateDer, ...chain], 0xa0);
  }

  /** Returns the DER of a ContentInfo wrapping the SignedData. */
  sign(input: SignedDataInput): Uint8Array {
    return this.prepare(input).finish();
  }

  /**
   * Signs now and assembles later: the signature value is known before the unsigned attributes
   * are added (RFC 5652 §5.3), e.g. a signature timestamp over it (RFC 3161 appendix A).
   */
  prepare(input: SignedDataInput): { signature: Uint8Array; finish(unsignedAttributes?: readonly { oid: string; value: Uint8Array }[]): Uint8Array } {
    if (input.contentDigest.length !== 32) {
      throw new PkiError('INVALID_ARGUMENT', 'contentDigest must be a 32-byte SHA-256 digest');
    }
    const toBeSigned = derSetOf([
      attribute(OID_ATTR_CONTENT_TYPE, derOid(input.eContentType)),
      ...(input.signingTime ? [attribute(OID_ATTR_SIGNING_TIME, derTime(input.signingTime))] : []),
      attribute(OID_ATTR_MESSAGE_DIGEST, derOctetString(input.contentDigest)),
      this.essAttribute,
    ]);
    // RFC 5652 §5.4: the signature covers the DER of the attributes as an explicit SET OF
    // (tag 0x31), while the SignerInfo carries the same octets under [0] IMPLICIT (tag 0xA0).
    const signature = cryptoSign('sha256', toBeSigned, this.key);
    const signedAttrs = toBeSigned.slice();
    signedAttrs[0] = 0xa0;
    return { signature, finish: (unsigned = []) => this.assemble(input, signedAttrs, signature, unsigned) };
  }

  private assemble(input: SignedDataInput, signedAttrs: Uint8Array, signature: Uint8Array, unsigned: readonly { oid: string; value: Uint8Array }[]): Uint8Array {
    const signerInfo = derSequence(
      derInteger(1),
      this.sid,
      this.digestAlgorithm,
      signedAttrs,
      this.signatureAlgorithm,
      derOctetString(signature),
      // unsignedAttrs [1] IMPLICIT SET OF Attribute.
      ...(unsigned.length > 0 ? [derSetOf(unsigned.map((a) => attribute(a.oid, a.value)), 0xa1)] : []),
    );
    const encapContentInfo = input.eContent
      ? derSequence(derOid(input.eContentType), derContext(0, derOctetString(input.eContent)))
      : derSequence(derOid(input.eContentType));
    // RFC 5652 §5.1: version 3 when eContentType is not id-data, else 1.
    const version = input.eContentType === OID_DATA ? 1 : 3;
    const signedData = derSequence(
      derInteger(version),
      derSetOf([this.digestAlgorithm]),
      encapContentInfo,
      ...(input.includeCertificates ? [this.certificateSet] : []),
      derSetOf([signerInfo]),
    );
    return derSequence(derOid(OID_SIGNED_DATA), derContext(0, signedData));
  }
}

/** Attribute ::= SEQUENCE { attrType, attrValues SET OF } with one value (RFC 5652 §5.3). */
function attribute(oid: string, value: Uint8Array): Uint8Array {
  return derSequence(derOid(oid), derSetOf([value]));
}

/** signatureAlgorithm of the SignerInfo for a key type (RFC 3370 §3.2, RFC 5754 §3.3). */
function signatureAlgorithmFor(key: KeyObject): Uint8Array {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return derSequence(derOid(OID_RSA_ENCRYPTION), derNull());
    case 'ec':
      return derSequence(derOid(OID_ECDSA_WITH_SHA256));
    default:
      throw new PkiError('UNSUPPORTED_KEY', `signing with ${key.asymmetricKeyType ?? 'unknown'} keys is not supported`);
  }
}
