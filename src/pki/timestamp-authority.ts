import { createHash, randomBytes } from 'node:crypto';
import { parseCertificateDer, readCertificateFacts } from '../core/certificate-facts.js';
import { DEVELOPMENT_TSA_POLICY_OID } from '../core/development-marker.js';
import { OID_SHA256, OID_TST_INFO } from '../core/pki-oids.js';
import { readCertificateDerFields } from './certificate-der.js';
import {
  derContext,
  derGeneralizedTime,
  derInteger,
  derNull,
  derOctetString,
  derOid,
  derSequence,
  derTlv,
} from './der-writer.js';
import { PkiError } from './pki-error.js';
import { SignedDataSigner, type SigningIdentity } from './signed-data-builder.js';
import { parseTimestampRequest, type TimestampRequest } from './timestamp-request.js';
import {
  buildGrantedResponse,
  buildRejectionResponse,
  type PkiFailureInfo,
} from './timestamp-response.js';

export { HttpTimestampAuthority, type HttpTimestampAuthorityOptions } from './http-timestamp-authority.js';

/** A token and the facts a caller stores beside it. */
export interface TimestampResult {
  /** DER ContentInfo (SignedData over a TSTInfo), RFC 3161 §2.4.2 TimeStampToken. */
  token: Uint8Array;
  genTime: Date;
  /** TSTInfo serialNumber, lowercase hex. */
  serial: string;
  /** RFC 4514 subject of the TSA's signing certificate. */
  tsa: string;
}

/**
 * Where RFC 3161 timestamps come from: the center's built-in TSA or an outside one over HTTP.
 * A test may put a fake behind it.
 */
export interface TimestampAuthority {
  /** Timestamps a SHA-256 digest (the period root). */
  timestamp(sha256Digest: Uint8Array): Promise<TimestampResult>;
}

/** Accuracy (RFC 3161 §2.4.2); all zero or absent means "not stated". */
export interface TimestampAccuracy {
  seconds?: number;
  millis?: number;
  micros?: number;
}

/** Options of {@link BuiltInTimestampAuthority}. */
export interface BuiltInTimestampAuthorityOptions {
  /** The TSA certificate (critical id-kp-timeStamping EKU) with its key and chain. */
  identity: SigningIdentity;
  /** Default policy of issued tokens. Default: the development TSA policy, which marks tokens as not evidence. */
  policyOid?: string;
  /** Policies a request may ask for (reqPolicy); default: only `policyOid`. */
  acceptedPolicies?: readonly string[];
  /** Stated accuracy of genTime; default one second (the host clock is NTP-disciplined). */
  accuracy?: TimestampAccuracy;
  /**
   * Serial numbers; must never repeat for this TSA (RFC 3161 §2.4.2). Default: 16 random
   * octets (126 random bits), unique without any state. Pass a persisted counter instead if wanted.
   */
  nextSerial?: () => bigint;
  /** Clock; default `new Date()`. */
  clock?: () => Date;
  /** Put the tsa name (the signer's subject) into TSTInfo; default true. */
  includeTsaName?: boolean;
}

const SHA256_IMPRINT_ALGORITHM = derSequence(derOid(OID_SHA256), derNull());

/**
 * The center's own RFC 3161 TSA. Tokens are TSTInfo in a SignedData built by
 * {@link SignedDataSigner}: signed attributes content-type, signing-time, message-digest and
 * ESS signing-certificate-v2, which `openssl ts -verify` requires. `ordering` is false (left
 * out as its DEFAULT).
 */
export class BuiltInTimestampAuthority implements TimestampAuthority {
  /** Default policy of issued tokens. */
  readonly policyOid: string;
  /** RFC 4514 subject of the TSA certificate. */
  readonly name: string;
  private readonly acceptedPolicies: ReadonlySet<string>;
  private readonly accuracyDer: Uint8Array | undefined;
  private readonly tsaNameDer: Uint8Array | undefined;
  private readonly signer: SignedDataSigner;
  private readonly nextSerial: () => bigint;
  private readonly clock: () => Date;

  constructor(options: BuiltInTimestampAuthorityOptions) {
    this.policyOid = options.policyOid ?? DEVELOPMENT_TSA_POLICY_OID;
    this.acceptedPolicies = new Set(options.acceptedPolicies ?? [this.policyOid]);
    this.accuracyDer = encodeAccuracy(options.accuracy ?? { seconds: 1 });
    const certificate = options.identity.certificateDer;
    this.name = readCertificateFacts(parseCertificateDer(certificate)).subject;
    // tsa [0] GeneralName, directoryName [4] Name: both explicit because GeneralName and Name
    // are CHOICEs. OpenSSL requires it to equal the signer's subject.
    this.tsaNameDer =
      options.includeTsaName === false
        ? undefined
        : derContext(0, derContext(4, readCertificateDerFields(certificate).subject));
    this.signer = new SignedDataSigner(options.identity);
    this.nextSerial = options.nextSerial ?? randomSerial;
    this.clock = options.clock ?? (() => new Date());
  }

  /** Timestamps a SHA-256 digest; the token always carries the TSA certificate. */
  async timestamp(sha256Digest: Uint8Array): Promise<TimestampResult> {
    if (sha256Digest.length !== 32) throw new PkiError('INVALID_ARGUMENT', 'a SHA-256 digest is 32 bytes');
    const imprint = derSequence(SHA256_IMPRINT_ALGORITHM, derOctetString(sha256Digest));
    const issued = this.issue(imprint, undefined, this.policyOid, true);
    return { token: issued.token, genTime: issued.genTime, serial: issued.serial, tsa: this.name };
  }

  /**
   * Answers a DER TimeStampReq with a DER TimeStampResp (RFC 3161 §2.4). Never throws: a bad
   * request gets a rejection with the matching failInfo, an internal fault `systemFailure`.
   */
  respond(requestDer: Uint8Array): Uint8Array {
    let request: TimestampRequest;
    try {
      request = parseTimestampRequest(requestDer);
    } catch (e) {
      return reject('badDataFormat', `the request is not a DER TimeStampReq: ${(e as Error).message}`);
    }
    if (request.version !== 1n) return reject('badDataFormat', `unsupported request version ${request.version}`);
    if (request.hashAlgorithm !== OID_SHA256) {
      return reject('badAlg', `hash algorithm ${request.hashAlgorithm} is not accepted; use SHA-256`);
    }
    if (!request.hashParametersAcceptable) return reject('badAlg', 'SHA-256 takes no algorithm parameters');
    if (request.hashedMessage.length !== 32) return reject('badDataFormat', 'a SHA-256 imprint is 32 bytes');
    if (request.reqPolicy !== undefined && !this.acceptedPolicies.has(request.reqPolicy)) {
      return reject('unacceptedPolicy', `policy ${request.reqPolicy} is not offered by this TSA`);
    }
    // RFC 3161 §2.4.1: a TSA that does not recognise an extension SHALL NOT issue a token.
    if (request.hasExtensions) return reject('unacceptedExtension', 'this TSA supports no request extensions');
    try {
      const issued = this.issue(
        request.messageImprintDer,
        request.nonceDer,
        request.reqPolicy ?? this.policyOid,
        request.certReq,
      );
      return buildGrantedResponse(issued.token);
    } catch {
      return reject('systemFailure', 'the TSA could not sign the token');
    }
  }

  private issue(
    messageImprintDer: Uint8Array,
    nonceDer: Uint8Array | undefined,
    policy: string,
    includeCertificates: boolean,
  ): { token: Uint8Array; genTime: Date; serial: string } {
    const genTime = this.clock();
    const serial = this.nextSerial();
    if (serial <= 0n) throw new PkiError('INVALID_ARGUMENT', 'TSA serial numbers must be positive');
    // TSTInfo (RFC 3161 §2.4.2); messageImprint and nonce are spliced in as received.
    const tstInfo = derSequence(
      derInteger(1),
      derOid(policy),
      messageImprintDer,
      derInteger(serial),
      derGeneralizedTime(genTime),
      ...(this.accuracyDer ? [this.accuracyDer] : []),
      ...(nonceDer ? [nonceDer] : []),
      ...(this.tsaNameDer ? [this.tsaNameDer] : []),
    );
    const token = this.signer.sign({
      eContentType: OID_TST_INFO,
      eContent: tstInfo,
      contentDigest: createHash('sha256').update(tstInfo).digest(),
      signingTime: genTime,
      includeCertificates,
    });
    return { token, genTime, serial: unsignedHex(serial) };
  }
}

/** Lowercase hex of a positive integer, padded to whole octets (the form core's verifier reports). */
function unsignedHex(n: bigint): string {
  const hex = n.toString(16);
  return hex.length % 2 === 0 ? hex : `0${hex}`;
}

function reject(failInfo: PkiFailureInfo, text: string): Uint8Array {
  return buildRejectionResponse(failInfo, text);
}

/** 16 random octets as a positive INTEGER whose first octet is non-zero: always 16 octets. */
function randomSerial(): bigint {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] as number) & 0x7f) | 0x40;
  return BigInt(`0x${bytes.toString('hex')}`);
}

/** Accuracy ::= SEQUENCE { seconds INTEGER OPTIONAL, millis [0] INTEGER (1..999) OPTIONAL, micros [1] INTEGER (1..999) OPTIONAL }. */
function encodeAccuracy(accuracy: TimestampAccuracy): Uint8Array | undefined {
  const parts: Uint8Array[] = [];
  const { seconds = 0, millis = 0, micros = 0 } = accuracy;
  for (const [v, max] of [
    [millis, 999],
    [micros, 999],
  ] as const) {
    if (!Number.isInteger(v) || v < 0 || v > max) throw new PkiError('INVALID_ARGUMENT', 'accuracy millis/micros must be 0..999');
  }
  if (!Number.isInteger(seconds) || seconds < 0) throw new PkiError('INVALID_ARGUMENT', 'accuracy seconds must be a non-negative integer');
  if (seconds > 0) parts.push(derInteger(seconds));
  // [0] and [1] are IMPLICIT INTEGERs: primitive context tags 0x80 and 0x81 over the integer's content.
  if (millis > 0) parts.push(implicitInteger(0x80, millis));
  if (micros > 0) parts.push(implicitInteger(0x81, micros));
  return parts.length > 0 ? derSequence(...parts) : undefined;
}

function implicitInteger(tag: number, value: number): Uint8Array {
  const integer = derInteger(value);
  return derTlv(tag, integer.subarray(2));
}
