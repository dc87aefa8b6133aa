import { OID_SHA256 } from '../core/pki-oids.js';
import {
  decodeBoolean,
  decodeInteger,
  decodeOid,
  derChildren,
  DerFormatError,
  expectTag,
  readDer,
  type DerElement,
} from './der-reader.js';
import { derBoolean, derInteger, derNull, derOctetString, derOid, derSequence, TAG } from './der-writer.js';

/** A parsed TimeStampReq (RFC 3161 §2.4.1), with the parts a TSA copies kept as raw DER. */
export interface TimestampRequest {
  version: bigint;
  /** messageImprint.hashAlgorithm OID. */
  hashAlgorithm: string;
  /** True when the algorithm's parameters are absent or NULL, the two forms RFC 5754 §2 allows. */
  hashParametersAcceptable: boolean;
  hashedMessage: Uint8Array;
  /** The whole messageImprint TLV, to be copied into TSTInfo unchanged. */
  messageImprintDer: Uint8Array;
  reqPolicy?: string;
  /** The whole nonce INTEGER TLV, to be copied into TSTInfo unchanged. */
  nonceDer?: Uint8Array;
  nonce?: bigint;
  certReq: boolean;
  /** True when the request carries extensions ([0] IMPLICIT Extensions). */
  hasExtensions: boolean;
}

/**
 * Parses a DER TimeStampReq:
 * ```
 * TimeStampReq ::= SEQUENCE { version INTEGER { v1(1) }, messageImprint MessageImprint,
 *   reqPolicy TSAPolicyId OPTIONAL, nonce INTEGER OPTIONAL, certReq BOOLEAN DEFAULT FALSE,
 *   extensions [0] IMPLICIT Extensions OPTIONAL }
 * ```
 * Throws {@link DerFormatError} on anything else; judging the values is the TSA's job.
 */
export function parseTimestampRequest(der: Uint8Array): TimestampRequest {
  const fields = derChildren(expectTag(readDer(der), TAG.SEQUENCE, 'TimeStampReq'));
  const version = decodeInteger(bounded(expectTag(fields[0], TAG.INTEGER, 'version'), MAX_VERSION_BYTES, 'version'));
  const imprint = expectTag(fields[1], TAG.SEQUENCE, 'messageImprint');
  const [algorithm, hashed, ...extra] = derChildren(imprint);
  if (extra.length > 0) throw new DerFormatError('messageImprint has extra fields');
  const algFields = derChildren(expectTag(algorithm, TAG.SEQUENCE, 'hashAlgorithm'));
  const hashAlgorithm = decodeOid(bounded(expectTag(algFields[0], TAG.OID, 'algorithm OID'), MAX_OID_BYTES, 'algorithm OID'));
  const params = algFields.slice(1);
  const hashParametersAcceptable =
    params.length === 0 || (params.length === 1 && params[0]?.tag === TAG.NULL && params[0].content.length === 0);
  const hashedMessage = expectTag(hashed, TAG.OCTET_STRING, 'hashedMessage').content;

  const request: TimestampRequest = {
    version,
    hashAlgorithm,
    hashParametersAcceptable,
    hashedMessage,
    messageImprintDer: imprint.der,
    certReq: false,
    hasExtensions: false,
  };
  // The optional fields come in order and are told apart by tag.
  let i = 2;
  const next = (): DerElement | undefined => fields[i];
  if (next()?.tag === TAG.OID) request.reqPolicy = decodeOid(bounded(fields[i++] as DerElement, MAX_OID_BYTES, 'reqPolicy'));
  if (next()?.tag === TAG.INTEGER) {
    const nonce = fields[i++] as DerElement;
    request.nonce = decodeInteger(bounded(nonce, MAX_NONCE_BYTES, 'nonce'));
    request.nonceDer = nonce.der;
  }
  if (next()?.tag === TAG.BOOLEAN) {
    const certReq = decodeBoolean((fields[i++] as DerElement).content);
    // DER leaves out a value equal to its DEFAULT (X.690 §11.5); tolerate FALSE anyway.
    request.certReq = certReq;
  }
  if (next()?.tag === 0xa0) {
    request.hasExtensions = true;
    i++;
  }
  if (i !== fields.length) throw new DerFormatError('unexpected field in TimeStampReq');
  return request;
}

// Public requests are decoded before anything else is judged: sizes far beyond any real request
// (a version is 1, OpenSSL's nonces are 8 bytes, OIDs some tens) are refused unread, so a 64 KiB
// number cannot cost the HTTP thread seconds or come back as 144 KB of text.
const MAX_VERSION_BYTES = 4;
const MAX_NONCE_BYTES = 64;
const MAX_OID_BYTES = 64;

function bounded(element: DerElement, maxBytes: number, what: string): Uint8Array {
  if (element.content.length > maxBytes) throw new DerFormatError(`${what} is longer than ${maxBytes} bytes`);
  return element.content;
}

/** Builds a DER TimeStampReq for a SHA-256 digest, in the form `openssl ts -query -sha256` writes. */
export function buildTimestampRequest(input: {
  sha256Digest: Uint8Array;
  nonce?: bigint;
  certReq?: boolean;
  reqPolicy?: string;
}): Uint8Array {
  return derSequence(
    derInteger(1),
    // OpenSSL and most TSAs write NULL parameters for SHA-256 here; some older TSAs need them.
    derSequence(derSequence(derOid(OID_SHA256), derNull()), derOctetString(input.sha256Digest)),
    ...(input.reqPolicy ? [derOid(input.reqPolicy)] : []),
    ...(input.nonce !== undefined ? [derInteger(input.nonce)] : []),
    ...(input.certReq ? [derBoolean(true)] : []),
  );
}
