import {
  decodeInteger,
  derChildren,
  DerFormatError,
  expectTag,
  readDer,
} from './der-reader.js';
import { derInteger, derNamedBitString, derSequence, derUtf8String, TAG } from './der-writer.js';

/** PKIStatus values (RFC 3161 §2.4.2). */
export const PKI_STATUS = {
  granted: 0,
  grantedWithMods: 1,
  rejection: 2,
  waiting: 3,
  revocationWarning: 4,
  revocationNotification: 5,
} as const;

/** PKIFailureInfo bit numbers (RFC 3161 §2.4.2). */
export const PKI_FAILURE_INFO = {
  badAlg: 0,
  badRequest: 2,
  badDataFormat: 5,
  timeNotAvailable: 14,
  unacceptedPolicy: 15,
  unacceptedExtension: 16,
  addInfoNotAvailable: 17,
  systemFailure: 25,
} as const;

/** A PKIFailureInfo name. */
export type PkiFailureInfo = keyof typeof PKI_FAILURE_INFO;

/** TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken TimeStampToken OPTIONAL }. */
export function buildGrantedResponse(tokenDer: Uint8Array): Uint8Array {
  return derSequence(derSequence(derInteger(PKI_STATUS.granted)), tokenDer);
}

/**
 * A rejection: PKIStatusInfo { status rejection, statusString (PKIFreeText, UTF8String),
 * failInfo } and no token (RFC 3161 §2.4.2).
 */
export function buildRejectionResponse(failInfo: PkiFailureInfo, text: string): Uint8Array {
  return derSequence(
    derSequence(
      derInteger(PKI_STATUS.rejection),
      derSequence(derUtf8String(text)),
      derNamedBitString([PKI_FAILURE_INFO[failInfo]]),
    ),
  );
}

/** A parsed TimeStampResp. */
export interface ParsedTimestampResponse {
  status: number;
  statusText: string[];
  failInfo: PkiFailureInfo[];
  /** The TimeStampToken's DER, when present. */
  token?: Uint8Array;
}

/** Parses a DER TimeStampResp; throws {@link DerFormatError} when it is not one. */
export function parseTimestampResponse(der: Uint8Array): ParsedTimestampResponse {
  const [statusInfo, token, ...rest] = derChildren(expectTag(readDer(der), TAG.SEQUENCE, 'TimeStampResp'));
  if (rest.length > 0) throw new DerFormatError('TimeStampResp has extra fields');
  const fields = derChildren(expectTag(statusInfo, TAG.SEQUENCE, 'PKIStatusInfo'));
  const status = Number(decodeInteger(expectTag(fields[0], TAG.INTEGER, 'status').content));
  const result: ParsedTimestampResponse = { status, statusText: [], failInfo: [] };
  for (const field of fields.slice(1)) {
    if (field.tag === TAG.SEQUENCE) {
      const decoder = new TextDecoder('utf-8', { fatal: false });
      result.statusText = derChildren(field).map((s) => decoder.decode(s.content));
    } else if (field.tag === TAG.BIT_STRING) {
      const unused = field.content[0] ?? 0;
      const bits = field.content.subarray(1);
      for (const [name, bit] of Object.entries(PKI_FAILURE_INFO)) {
        if (bit < bits.length * 8 - unused && ((bits[bit >> 3] ?? 0) & (0x80 >> (bit & 7))) !== 0) {
          result.failInfo.push(name as PkiFailureInfo);
        }
      }
    }
  }
  if (token) result.token = expectTag(token, TAG.SEQUENCE, 'TimeStampToken').der;
  return result;
}
