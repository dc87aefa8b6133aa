import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import {
  asArrayBufferView,
  formatDistinguishedName,
  integerToHex,
  readCertificateFacts,
  timestampSigningProblem,
} from './certificate-facts.js';
import { isDevelopmentOid } from './development-marker.js';
import {
  OID_ATTR_SIGNING_CERTIFICATE,
  OID_EXT_SUBJECT_ALT_NAME,
  OID_ATTR_SIGNING_CERTIFICATE_V2,
  OID_SHA1,
  OID_SHA256,
  OID_TST_INFO,
} from './pki-oids.js';
import { bytesEqual, bytesToHex } from './hex.js';
import { revocationServicesOf } from './revocation.js';
import type { SignatureEngine } from './signature-engine.js';
import {
  cachedCertificate,
  digestByOid,
  errorText,
  parseSignedData,
  parseTrustRoots,
  singleSignedAttributeValue,
  SignedDataCheckFailure,
  verifyChainToRoots,
  verifySignerSignature,
  type ParsedSignedData,
} from './signed-data-check.js';

/** Outcome codes of {@link verifyTimestampToken}. */
export type TimestampVerificationCode =
  | 'OK'
  | 'TST_MALFORMED'
  | 'TST_UNSUPPORTED_ALGORITHM'
  | 'TST_IMPRINT_MISMATCH'
  | 'TST_NONCE_MISMATCH'
  | 'TST_SIGNATURE_INVALID'
  | 'TST_ESS_MISMATCH'
  | 'TST_BAD_EKU'
  | 'TST_TSA_NAME_MISMATCH'
  | 'TST_UNTRUSTED'
  | 'TST_BAD_TRUST_ROOT';

/** Result of {@link verifyTimestampToken}. Never thrown. */
export interface TimestampVerificationResult {
  status: 'ok' | 'failed';
  code: TimestampVerificationCode;
  message: string;
  /** The TSA's genTime (RFC 3161 §2.4.2), when the TSTInfo could be read. */
  genTime?: Date;
  /** RFC 4514 subject of the TSA's signing certificate, when found. */
  tsa?: string;
  /** TSTInfo serialNumber, lowercase hex. */
  serial?: string;
  /** TSA policy OID. */
  policy?: string;
  /** True when the TSA certificate or the policy carries a development marker: not evidence. */
  isDevelopment?: boolean;
  /** When the TSA's validated path is valid (it was checked at genTime): present on success. */
  pathValidity?: { notBefore: Date; notAfter: Date };
  /** Revocation services (CRL, OCSP URLs) the TSA's certificates name; empty: none published. */
  revocationServices?: string[];
}

/** Options of {@link verifyTimestampToken}. */
export interface TimestampVerifyOptions {
  /** The nonce sent in the request; the token must carry the same value (RFC 3161 §2.4.2). */
  nonce?: bigint | Uint8Array;
  /** The public-key work; default pkijs over WebCrypto. */
  engine?: SignatureEngine;
}

type FailureCode = Exclude<TimestampVerificationCode, 'OK'>;

class TimestampCheckFailure extends Error {
  constructor(
    readonly code: FailureCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Verifies an RFC 3161 TimeStampToken (a DER ContentInfo) for `expectedSha256`:
 * the message imprint (SHA-256 only), the nonce when given, the signature, the ESS
 * signing-certificate(-v2) hash of the signer (RFC 5035 §3 / RFC 2634 §5.4), the critical
 * id-kp-timeStamping EKU (RFC 3161 §2.3), the TSA name when present (§2.4.2), and a path to
 * one of `trustRoots` valid at genTime. pkijs' own `verify()` skips most of these, so each is
 * done here. Browser-safe; never throws.
 */
export async function verifyTimestampToken(
  tokenDer: Uint8Array,
  expectedSha256: Uint8Array,
  trustRoots: readonly (string | Uint8Array)[],
  options: TimestampVerifyOptions = {},
): Promise<TimestampVerificationResult> {
  let roots: Uint8Array[];
  try {
    roots = parseTrustRoots(trustRoots);
  } catch (e) {
    return { status: 'failed', code: 'TST_BAD_TRUST_ROOT', message: `a trust root is not a certificate: ${errorText(e)}` };
  }
  const known: Omit<TimestampVerificationResult, 'status' | 'code' | 'message'> = {};
  try {
    const { parsed, tstInfo } = parsedToken(tokenDer);
    const facts = readCertificateFacts(parsed.signerCertificate);
    known.genTime = new Date(tstInfo.genTime.getTime()); // a copy: the parsed token is kept for the next call
    known.tsa = facts.subject;
    known.serial = integerToHex(tstInfo.serialNumber);
    known.policy = tstInfo.policy;
    known.isDevelopment = facts.isDevelopment || isDevelopmentOid(tstInfo.policy);

    checkImprint(tstInfo, expectedSha256);
    if (options.nonce !== undefined) checkNonce(tstInfo, options.nonce);
    await verifySignerSignature(parsed, parsed.eContent as Uint8Array, options.engine);
    checkSigningCertificateAttribute(parsed);
    const ekuProblem = timestampSigningProblem(facts);
    if (ekuProblem) throw new TimestampCheckFailure('TST_BAD_EKU', ekuProblem);
    checkTsaName(tstInfo, parsed.signerCertificate);
    const path = await verifyChainToRoots(parsed, roots, tstInfo.genTime, options.engine);
    // A root whose private key is published (the development root) marks everything under it.
    if (path.path.some((der) => readCertificateFacts(cachedCertificate(der)).isDevelopment)) known.isDevelopment = true;

    const devNote = known.isDevelopment ? ' (DEVELOPMENT TSA: not evidence)' : '';
    return {
      status: 'ok',
      code: 'OK',
      message: `timestamp of ${tstInfo.genTime.toISOString()} by ${facts.subject} verifies${devNote}`,
      ...known,
      pathValidity: { notBefore: path.notBefore, notAfter: path.notAfter },
      revocationServices: revocationServicesOf(parsed.certificates),
    };
  } catch (e) {
    let code: FailureCode = 'TST_MALFORMED';
    if (e instanceof TimestampCheckFailure) code = e.code;
    else if (e instanceof SignedDataCheckFailure) {
      code =
        e.problem === 'untrusted'
          ? 'TST_UNTRUSTED'
          : e.problem === 'malformed'
            ? 'TST_MALFORMED'
            : e.problem === 'unsupported-algorithm'
              ? 'TST_UNSUPPORTED_ALGORITHM'
              : 'TST_SIGNATURE_INVALID';
    }
    return { status: 'failed', code, message: errorText(e), ...known };
  }
}

/**
 * Tokens already parsed, by their DER (hex): every certificate of a period carries the period's
 * token (and its renewals), so a center verifying its certificates parses each token once. Only
 * the parsing is kept (it reads the bytes and nothing else); every check runs at every call.
 */
const tokenCache = new Map<string, { parsed: ParsedSignedData; tstInfo: pkijs.TSTInfo }>();
const TOKEN_CACHE_LIMIT = 64;

function parsedToken(tokenDer: Uint8Array): { parsed: ParsedSignedData; tstInfo: pkijs.TSTInfo } {
  const key = bytesToHex(tokenDer);
  let entry = tokenCache.get(key);
  if (!entry) {
    const parsed = parseToken(tokenDer);
    entry = { parsed, tstInfo: parseTstInfo(parsed) };
    if (tokenCache.size >= TOKEN_CACHE_LIMIT) tokenCache.clear();
    tokenCache.set(key, entry);
  }
  return entry;
}

function parseToken(tokenDer: Uint8Array): ParsedSignedData {
  const parsed = parseSignedData(tokenDer);
  if (parsed.eContentType !== OID_TST_INFO) {
    throw new TimestampCheckFailure('TST_MALFORMED', `eContentType ${parsed.eContentType} is not id-ct-TSTInfo`);
  }
  if (!parsed.eContent) throw new TimestampCheckFailure('TST_MALFORMED', 'the token carries no TSTInfo');
  return parsed;
}

function parseTstInfo(parsed: ParsedSignedData): pkijs.TSTInfo {
  let tstInfo: pkijs.TSTInfo;
  try {
    tstInfo = pkijs.TSTInfo.fromBER(asArrayBufferView(parsed.eContent as Uint8Array));
  } catch (e) {
    throw new TimestampCheckFailure('TST_MALFORMED', `the TSTInfo cannot be parsed: ${errorText(e)}`);
  }
  if (tstInfo.version !== 1) throw new TimestampCheckFailure('TST_MALFORMED', `TSTInfo version ${tstInfo.version} is not 1`);
  return tstInfo;
}

/** RFC 3161 §2.4.2: messageImprint MUST equal the request's; only SHA-256 is accepted here. */
function checkImprint(tstInfo: pkijs.TSTInfo, expectedSha256: Uint8Array): void {
  const algorithm = tstInfo.messageImprint.hashAlgorithm;
  if (algorithm.algorithmId !== OID_SHA256) {
    throw new TimestampCheckFailure('TST_UNSUPPORTED_ALGORITHM', `message imprint algorithm ${algorithm.algorithmId} is not SHA-256`);
  }
  const params = algorithm.algorithmParams as asn1js.AsnType | undefined;
  if (params !== undefined && !(params instanceof asn1js.Null)) {
    throw new TimestampCheckFailure('TST_MALFORMED', 'the message imprint algorithm has unexpected parameters');
  }
  const hashed = tstInfo.messageImprint.hashedMessage.valueBlock.valueHexView;
  if (expectedSha256.length !== 32 || !bytesEqual(hashed, expectedSha256)) {
    throw new TimestampCheckFailure('TST_IMPRINT_MISMATCH', 'the token\'s message imprint is not the expected SHA-256 digest');
  }
}

function checkNonce(tstInfo: pkijs.TSTInfo, nonce: bigint | Uint8Array): void {
  const expected = typeof nonce === 'bigint' ? nonce : unsignedToBigInt(nonce);
  if (!tstInfo.nonce) throw new TimestampCheckFailure('TST_NONCE_MISMATCH', 'the token carries no nonce');
  if (tstInfo.nonce.toBigInt() !== expected) {
    throw new TimestampCheckFailure('TST_NONCE_MISMATCH', 'the token\'s nonce differs from the request\'s');
  }
}

/**
 * RFC 3161 §2.4.1 requires the ESS signing-certificate attribute (RFC 5816 allows v2); its
 * first ESSCertID(v2) identifies the signer: hash of the whole certificate, and issuer/serial
 * when present.
 */
function checkSigningCertificateAttribute(parsed: ParsedSignedData): void {
  const v2 = singleSignedAttributeValue(parsed.signerInfo, OID_ATTR_SIGNING_CERTIFICATE_V2);
  const v1 = v2 ? undefined : singleSignedAttributeValue(parsed.signerInfo, OID_ATTR_SIGNING_CERTIFICATE);
  const value = v2 ?? v1;
  if (!value) throw new TimestampCheckFailure('TST_ESS_MISMATCH', 'the token has no ESS signing-certificate attribute');
  const certs = (value as asn1js.Sequence).valueBlock?.value?.[0] as asn1js.Sequence | undefined;
  const first = certs?.valueBlock?.value?.[0] as asn1js.Sequence | undefined;
  const fields = first?.valueBlock?.value;
  if (!(value instanceof asn1js.Sequence) || !(certs instanceof asn1js.Sequence) || !(first instanceof asn1js.Sequence) || !fields) {
    throw new TimestampCheckFailure('TST_MALFORMED', 'the ESS signing-certificate attribute is malformed');
  }
  let index = 0;
  let hashOid = v2 ? OID_SHA256 : OID_SHA1;
  if (v2 && fields[0] instanceof asn1js.Sequence) {
    // ESSCertIDv2.hashAlgorithm DEFAULT id-sha256 (RFC 5035 §4).
    hashOid = new pkijs.AlgorithmIdentifier({ schema: fields[0] }).algorithmId;
    index = 1;
  }
  const certHash = fields[index];
  const issuerSerial = fields[index + 1];
  if (!(certHash instanceof asn1js.OctetString)) {
    throw new TimestampCheckFailure('TST_MALFORMED', 'the ESS certHash is missing');
  }
  const digest = digestByOid(hashOid, parsed.signerCertificateDer);
  if (!digest) throw new TimestampCheckFailure('TST_UNSUPPORTED_ALGORITHM', `ESS hash algorithm ${hashOid} is not supported`);
  if (!bytesEqual(digest, certHash.valueBlock.valueHexView)) {
    throw new TimestampCheckFailure('TST_ESS_MISMATCH', 'the ESS certificate hash does not match the signer\'s certificate');
  }
  if (issuerSerial instanceof asn1js.Sequence) {
    const [names, serial] = issuerSerial.valueBlock.value;
    const signer = parsed.signerCertificate;
    if (!(serial instanceof asn1js.Integer) || !serial.isEqual(signer.serialNumber)) {
      throw new TimestampCheckFailure('TST_ESS_MISMATCH', 'the ESS issuerSerial serial number is not the signer\'s');
    }
    for (const gn of (names as asn1js.Sequence | undefined)?.valueBlock.value ?? []) {
      const name = new pkijs.GeneralName({ schema: gn });
      if (name.type === 4 && !(name.value as pkijs.RelativeDistinguishedNames).isEqual(signer.issuer)) {
        throw new TimestampCheckFailure('TST_ESS_MISMATCH', 'the ESS issuerSerial issuer is not the signer\'s issuer');
      }
    }
  }
}

/** RFC 3161 §2.4.2: the tsa field, when present, names the signer (its subject or a subjectAltName). */
function checkTsaName(tstInfo: pkijs.TSTInfo, signer: pkijs.Certificate): void {
  const tsa = tstInfo.tsa;
  if (!tsa) return;
  if (tsa.type === 4) {
    const name = tsa.value as pkijs.RelativeDistinguishedNames;
    if (name.isEqual(signer.subject)) return;
    throw new TimestampCheckFailure(
      'TST_TSA_NAME_MISMATCH',
      `the token names TSA ${formatDistinguishedName(name)} but is signed by ${formatDistinguishedName(signer.subject)}`,
    );
  }
  const wanted = new Uint8Array((tsa.toSchema() as asn1js.BaseBlock).toBER());
  const san = signer.extensions?.find((e) => e.extnID === OID_EXT_SUBJECT_ALT_NAME)?.parsedValue as pkijs.AltName | undefined;
  for (const alt of san?.altNames ?? []) {
    if (bytesEqual(new Uint8Array((alt.toSchema() as asn1js.BaseBlock).toBER()), wanted)) return;
  }
  throw new TimestampCheckFailure('TST_TSA_NAME_MISMATCH', 'the token\'s tsa name is not a name of the signer');
}

function unsignedToBigInt(bytes: Uint8Array): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}
