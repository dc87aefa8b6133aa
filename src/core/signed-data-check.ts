import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { sha1 } from '@noble/hashes/legacy.js';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { asArrayBufferView } from './certificate-facts.js';
import { bytesEqual, bytesToHex } from './hex.js';
import { pemCertificatesToDer } from './pem.js';
import { defaultSignatureEngine, type EngineHash, type SignatureEngine } from './signature-engine.js';
import {
  OID_EXT_SUBJECT_KEY_IDENTIFIER,
  OID_ATTR_CONTENT_TYPE,
  OID_ATTR_MESSAGE_DIGEST,
  OID_SHA1,
  OID_SHA256,
  OID_SHA384,
  OID_SHA512,
  OID_SIGNED_DATA,
} from './pki-oids.js';

/**
 * The steps shared by the CMS and RFC 3161 verifiers: parse a SignedData, find its signer,
 * check the signed attributes and the signature, and build a path to a trusted root.
 * Each step throws a {@link SignedDataCheckFailure}; the public verifiers turn it into a code.
 */

/** What went wrong, in terms the two verifiers map onto their own codes. */
export type SignedDataProblem =
  | 'malformed'
  | 'unsupported-algorithm'
  | 'digest-mismatch'
  | 'signature-invalid'
  | 'untrusted';

/** A failed step of a SignedData check. */
export class SignedDataCheckFailure extends Error {
  constructor(
    readonly problem: SignedDataProblem,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SignedDataCheckFailure';
  }
}

/** A parsed SignedData with its single signer located. */
export interface ParsedSignedData {
  signedData: pkijs.SignedData;
  signerInfo: pkijs.SignerInfo;
  signerCertificate: pkijs.Certificate;
  /** The signer certificate exactly as it appears in the SignedData (for ESS hashes). */
  signerCertificateDer: Uint8Array;
  /** Every X.509 certificate in the `certificates` field, and the DER of each as it arrived. */
  certificates: pkijs.Certificate[];
  certificateDers: Uint8Array[];
  eContentType: string;
  /** The encapsulated content's octets, or null when detached. */
  eContent: Uint8Array | null;
}

/** Digest of `data` with the algorithm `oid`, or null when the algorithm is not supported. */
export function digestByOid(oid: string, data: Uint8Array): Uint8Array | null {
  switch (oid) {
    case OID_SHA256:
      return sha256(data);
    case OID_SHA384:
      return sha384(data);
    case OID_SHA512:
      return sha512(data);
    case OID_SHA1:
      return sha1(data);
    default:
      return null;
  }
}

const WEBCRYPTO_HASH_NAMES: Record<string, EngineHash> = {
  [OID_SHA256]: 'SHA-256',
  [OID_SHA384]: 'SHA-384',
  [OID_SHA512]: 'SHA-512',
};

/** Trust roots given as PEM text (one or more certificates each) or DER, as DER. Throws on anything that is not a certificate. */
export function parseTrustRoots(roots: readonly (string | Uint8Array)[]): Uint8Array[] {
  const ders: Uint8Array[] = [];
  for (const root of roots) {
    if (typeof root !== 'string') ders.push(root);
    else {
      let fromPem = pemRoots.get(root);
      if (!fromPem) {
        fromPem = pemCertificatesToDer(root);
        if (pemRoots.size >= 64) pemRoots.clear();
        pemRoots.set(root, fromPem);
      }
      ders.push(...fromPem);
    }
  }
  for (const der of ders) {
    if (!checkedRoots.has(der)) {
      cachedCertificate(der); // parsed once, and kept for the path and the facts read later
      checkedRoots.add(der);
    }
  }
  return ders;
}

/** PEM texts already decoded: the same roots are passed call after call. */
const pemRoots = new Map<string, Uint8Array[]>();
/** DER buffers already parsed once as certificates (the same roots are passed call after call). */
const checkedRoots = new WeakSet<Uint8Array>();

/** Parses a DER ContentInfo holding a SignedData with exactly one signer. */
export function parseSignedData(der: Uint8Array): ParsedSignedData {
  let contentInfoAsn1: asn1js.AsnType;
  let signedData: pkijs.SignedData;
  let rawCertificates: Uint8Array[];
  try {
    const decoded = asn1js.fromBER(der);
    // The whole input must be one ContentInfo: trailing bytes would be unsigned and unseen.
    if (decoded.offset === -1 || decoded.offset !== der.byteLength) {
      throw new Error(decoded.result.error || 'trailing bytes after the ContentInfo');
    }
    contentInfoAsn1 = decoded.result;
    const contentInfo = new pkijs.ContentInfo({ schema: contentInfoAsn1 });
    if (contentInfo.contentType !== OID_SIGNED_DATA) {
      throw new Error(`content type ${contentInfo.contentType} is not signedData`);
    }
    rawCertificates = rawCertificateDers(contentInfoAsn1);
    // The certificates are parsed apart, once per distinct certificate (cachedCertificate): the
    // center's and the TSA's come back in every signature, and pkijs' schema matching of a
    // certificate costs more than everything else in a verification.
    const signedDataSequence = contentInfo.content as asn1js.Sequence;
    signedDataSequence.valueBlock.value = signedDataSequence.valueBlock.value.filter((b) => !isCertificateSet(b));
    signedData = new pkijs.SignedData({ schema: signedDataSequence });
  } catch (cause) {
    throw new SignedDataCheckFailure('malformed', `not a CMS SignedData: ${errorText(cause)}`, { cause });
  }
  if (signedData.signerInfos.length !== 1) {
    throw new SignedDataCheckFailure(
      'malformed',
      `expected exactly one signer, found ${signedData.signerInfos.length}`,
    );
  }
  const signerInfo = signedData.signerInfos[0] as pkijs.SignerInfo;
  const certificates: pkijs.Certificate[] = [];
  const certificateDers: Uint8Array[] = [];
  for (const der of rawCertificates) {
    // CertificateChoices (RFC 5652 §10.2.2): a plain Certificate is a SEQUENCE; the tagged
    // alternatives (attribute and other certificates) are not X.509 and are skipped.
    if (der[0] !== 0x30) continue;
    let cert: pkijs.Certificate;
    try {
      cert = cachedCertificate(der);
    } catch (cause) {
      throw new SignedDataCheckFailure('malformed', `a certificate in the SignedData cannot be read: ${errorText(cause)}`, { cause });
    }
    certificates.push(cert);
    certificateDers.push(der);
  }
  const index = certificates.findIndex((c) => isSignerCertificate(c, signerInfo));
  if (index < 0) {
    throw new SignedDataCheckFailure(
      'malformed',
      'the signer\'s certificate is not among the certificates of the SignedData',
    );
  }
  const eContent = signedData.encapContentInfo.eContent;
  return {
    signedData,
    signerInfo,
    signerCertificate: certificates[index] as pkijs.Certificate,
    signerCertificateDer: certificateDers[index] as Uint8Array,
    certificates,
    certificateDers,
    eContentType: signedData.encapContentInfo.eContentType,
    eContent: eContent ? new Uint8Array(eContent.getValue()) : null,
  };
}

/** Finds the signed attribute `oid` and returns its single value; throws when repeated or multi-valued. */
export function singleSignedAttributeValue(
  signerInfo: pkijs.SignerInfo,
  oid: string,
): asn1js.AsnType | undefined {
  const matches = (signerInfo.signedAttrs?.attributes ?? []).filter((a) => a.type === oid);
  if (matches.length === 0) return undefined;
  const first = matches[0] as pkijs.Attribute;
  // RFC 5652 §11.1–11.2: these attributes MUST have a single value and appear once.
  if (matches.length > 1 || first.values.length !== 1) {
    throw new SignedDataCheckFailure('malformed', `signed attribute ${oid} must appear once with one value`);
  }
  return first.values[0] as asn1js.AsnType;
}

/**
 * RFC 5652 §5.4 and §5.6: the content-type attribute equals eContentType, the message-digest
 * attribute equals the digest of `content`, and the signature over the DER SET OF the signed
 * attributes verifies with the signer certificate's key.
 */
export async function verifySignerSignature(
  parsed: ParsedSignedData,
  content: Uint8Array,
  engine: SignatureEngine = defaultSignatureEngine(),
): Promise<void> {
  const { signerInfo } = parsed;
  const digestOid = signerInfo.digestAlgorithm.algorithmId;
  const hashName = WEBCRYPTO_HASH_NAMES[digestOid];
  if (!hashName) {
    throw new SignedDataCheckFailure('unsupported-algorithm', `unsupported digest algorithm ${digestOid}`);
  }
  if (!signerInfo.signedAttrs || signerInfo.signedAttrs.attributes.length === 0) {
    throw new SignedDataCheckFailure('malformed', 'the signer has no signed attributes');
  }
  const contentType = singleSignedAttributeValue(signerInfo, OID_ATTR_CONTENT_TYPE);
  if (!(contentType instanceof asn1js.ObjectIdentifier)) {
    throw new SignedDataCheckFailure('malformed', 'the content-type signed attribute is missing');
  }
  if (contentType.valueBlock.toString() !== parsed.eContentType) {
    throw new SignedDataCheckFailure('malformed', 'the content-type signed attribute differs from eContentType');
  }
  const messageDigest = singleSignedAttributeValue(signerInfo, OID_ATTR_MESSAGE_DIGEST);
  if (!(messageDigest instanceof asn1js.OctetString)) {
    throw new SignedDataCheckFailure('malformed', 'the message-digest signed attribute is missing');
  }
  const actual = digestByOid(digestOid, content) as Uint8Array;
  if (!bytesEqual(actual, messageDigest.valueBlock.valueHexView)) {
    throw new SignedDataCheckFailure(
      'digest-mismatch',
      'the content\'s digest differs from the signed message-digest attribute',
    );
  }
  let valid: boolean;
  try {
    const algorithm = signerInfo.signatureAlgorithm;
    const params = algorithm.algorithmParams as asn1js.AsnType | undefined;
    valid = await engine.verifySignature({
      spki: subjectPublicKeyInfoDer(parsed.signerCertificate),
      algorithm: {
        oid: algorithm.algorithmId,
        ...(params !== undefined && !(params instanceof asn1js.Null) && { params: new Uint8Array(params.toBER()) }),
      },
      hash: hashName,
      data: new Uint8Array(signerInfo.signedAttrs.encodedValue),
      signature: signerInfo.signature.valueBlock.valueHexView,
    });
  } catch (cause) {
    throw new SignedDataCheckFailure(
      'unsupported-algorithm',
      `cannot check signature algorithm ${signerInfo.signatureAlgorithm.algorithmId}: ${errorText(cause)}`,
      { cause },
    );
  }
  if (!valid) {
    throw new SignedDataCheckFailure('signature-invalid', 'the signature does not verify with the signer\'s key');
  }
}

const spkiDers = new WeakMap<pkijs.Certificate, Uint8Array>();

/** A validated path and the time span in which all of its certificates are valid. */
export interface ValidatedPath {
  path: Uint8Array[];
  notBefore: Date;
  notAfter: Date;
}

/**
 * RFC 5280 §6 path validation from the signer certificate through the SignedData's CA
 * certificates to one of `trustRoots` (DER), at `at`. Returns the path, signer first, and the
 * span in which it is valid (a caller judging a later time than `at` compares with it).
 */
export async function verifyChainToRoots(
  parsed: ParsedSignedData,
  trustRoots: readonly Uint8Array[],
  at: Date,
  engine: SignatureEngine = defaultSignatureEngine(),
): Promise<ValidatedPath> {
  if (trustRoots.length === 0) {
    throw new SignedDataCheckFailure('untrusted', 'no trust roots were given');
  }
  const signerTbs = new Uint8Array(parsed.signerCertificate.tbsView);
  // The signer once, as the leaf; the SignedData's CA certificates as candidates.
  const intermediates = parsed.certificates.flatMap((c, i) =>
    !bytesEqual(new Uint8Array(c.tbsView), signerTbs) && pkijs.checkCA(c) !== null ? [parsed.certificateDers[i] as Uint8Array] : [],
  );
  const result = await engine.validatePath({ leaf: parsed.signerCertificateDer, intermediates, roots: trustRoots, at });
  if (!result.valid) {
    throw new SignedDataCheckFailure(
      'untrusted',
      `the signer's certificate does not chain to a trusted root at ${at.toISOString()}: ${result.message}`,
    );
  }
  return { path: result.path, notBefore: result.notBefore, notAfter: result.notAfter };
}

/** The DER SubjectPublicKeyInfo of a parsed certificate, as it arrived when possible. */
function subjectPublicKeyInfoDer(cert: pkijs.Certificate): Uint8Array {
  let der = spkiDers.get(cert);
  if (!der) {
    der = new Uint8Array(cert.subjectPublicKeyInfo.toSchema().toBER());
    spkiDers.set(cert, der);
  }
  return der;
}

function isSignerCertificate(cert: pkijs.Certificate, signerInfo: pkijs.SignerInfo): boolean {
  const sid = signerInfo.sid;
  if (sid instanceof pkijs.IssuerAndSerialNumber) {
    // The INTEGERs' content octets: what asn1js' isEqual compares too, by encoding both again
    // (toBER: slow to run cold, in a short-lived CLI).
    if (!bytesEqual(cert.serialNumber.valueBlock.valueHexView, sid.serialNumber.valueBlock.valueHexView)) return false;
    // The same encoded name is the same name; only when the encodings differ does pkijs compare
    // them attribute by attribute.
    const own = new Uint8Array(cert.issuer.valueBeforeDecode);
    const stated = new Uint8Array(sid.issuer.valueBeforeDecode);
    if (own.length > 0 && bytesEqual(own, stated)) return true;
    return cert.issuer.isEqual(sid.issuer);
  }
  // subjectKeyIdentifier [0]: RFC 5652 §5.3; compare with the certificate's SKI extension,
  // or RFC 5280 §4.2.1.2 method (1) when it has none.
  const sidBlock = sid as asn1js.Constructed | asn1js.Primitive;
  const keyId =
    sidBlock instanceof asn1js.Constructed
      ? ((sidBlock.valueBlock.value[0] as asn1js.OctetString | undefined)?.valueBlock.valueHexView ?? new Uint8Array())
      : (sidBlock as asn1js.Primitive).valueBlock.valueHexView;
  const ski = cert.extensions?.find((e) => e.extnID === OID_EXT_SUBJECT_KEY_IDENTIFIER)?.parsedValue as asn1js.OctetString | undefined;
  const own = ski
    ? ski.valueBlock.valueHexView
    : sha1(cert.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView);
  return bytesEqual(new Uint8Array(keyId), new Uint8Array(own));
}

function isCertificateSet(block: asn1js.AsnType): boolean {
  const b = block as asn1js.BaseBlock;
  return b.idBlock.tagClass === 3 && b.idBlock.tagNumber === 0;
}

/** Certificates already parsed, by their DER (hex): the same signers and roots come back call after call. */
const certificateCache = new Map<string, pkijs.Certificate>();
const CERTIFICATE_CACHE_LIMIT = 256;

/** A parsed certificate for `der`, parsed once; throws on anything that is not a certificate. */
export function cachedCertificate(der: Uint8Array): pkijs.Certificate {
  const key = bytesToHex(der);
  let cert = certificateCache.get(key);
  if (!cert) {
    cert = pkijs.Certificate.fromBER(asArrayBufferView(new Uint8Array(der)));
    if (certificateCache.size >= CERTIFICATE_CACHE_LIMIT) certificateCache.clear();
    certificateCache.set(key, cert);
  }
  return cert;
}

/** The DER of each entry of SignedData.certificates, read from the parsed tree as it arrived. */
function rawCertificateDers(contentInfo: asn1js.AsnType): Uint8Array[] {
  const explicit = (contentInfo as asn1js.Sequence).valueBlock.value[1] as asn1js.Constructed | undefined;
  const signedData = explicit?.valueBlock.value[0] as asn1js.Sequence | undefined;
  const certSet = signedData?.valueBlock.value.find(
    (b) => b.idBlock.tagClass === 3 && b.idBlock.tagNumber === 0,
  ) as asn1js.Constructed | undefined;
  if (!certSet) return [];
  return certSet.valueBlock.value.map((b) => new Uint8Array(b.valueBeforeDecodeView));
}

/** A short description of a thrown value. */
export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (e && typeof e === 'object' && 'resultMessage' in e) return String((e as { resultMessage: unknown }).resultMessage);
  return String(e);
}
