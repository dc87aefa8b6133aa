/**
 * A small DER (X.690) writer over Uint8Array for the CMS and RFC 3161 structures built here.
 * Unlike forge.asn1 it takes integers of any size (serials, nonces) and splices already-encoded
 * elements (a request's nonce and messageImprint) in unchanged.
 */
import { concatBytes as concat } from '../core/hex.js';

/** Universal tags used below (X.680 §8.4). */
export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Concatenates byte arrays (a list, where core's takes them as arguments). */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  return concat(...parts);
}

/** Definite-length DER length octets (X.690 §8.1.3, minimal form per §10.1). */
function lengthOctets(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

/** One TLV with a single-octet identifier `tag` (class, constructed bit and number < 31). */
export function derTlv(tag: number, ...content: Uint8Array[]): Uint8Array {
  const body = content.length === 1 ? (content[0] as Uint8Array) : concatBytes(content);
  return concatBytes([Uint8Array.of(tag), lengthOctets(body.length), body]);
}

/** SEQUENCE of already-encoded elements, in the order given. */
export function derSequence(...items: Uint8Array[]): Uint8Array {
  return derTlv(TAG.SEQUENCE, ...items);
}

/**
 * A SET OF in DER order: X.690 §11.6 sorts the encodings as octet strings, the shorter one
 * padded with trailing zero octets. Signed attributes (RFC 5652 §5.4) must be sorted so.
 */
export function derSetOf(items: readonly Uint8Array[], tag: number = TAG.SET): Uint8Array {
  return derTlv(tag, ...sortDerSetElements(items));
}

/** The elements of a DER SET OF in canonical order (X.690 §11.6). */
export function sortDerSetElements(items: readonly Uint8Array[]): Uint8Array[] {
  return [...items].sort((a, b) => {
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const d = (a[i] ?? 0) - (b[i] ?? 0);
      if (d !== 0) return d;
    }
    return 0;
  });
}

/** An OBJECT IDENTIFIER from dotted text (X.690 §8.19). */
export function derOid(oid: string): Uint8Array {
  const arcs = oid.split('.').map((a) => BigInt(a));
  if (arcs.length < 2) throw new Error(`invalid OID ${oid}`);
  const out: number[] = [];
  const first = (arcs[0] as bigint) * 40n + (arcs[1] as bigint);
  for (const arc of [first, ...arcs.slice(2)]) {
    const base128: number[] = [Number(arc & 0x7fn)];
    for (let v = arc >> 7n; v > 0n; v >>= 7n) base128.unshift(Number(v & 0x7fn) | 0x80);
    out.push(...base128);
  }
  return derTlv(TAG.OID, Uint8Array.from(out));
}

/**
 * An INTEGER (X.690 §8.3). A bigint or number is encoded as two's complement; a Uint8Array
 * is taken as an unsigned big-endian magnitude. Either way the encoding is minimal.
 */
export function derInteger(value: bigint | number | Uint8Array): Uint8Array {
  let bytes: Uint8Array;
  if (value instanceof Uint8Array) {
    let start = 0;
    while (start < value.length - 1 && value[start] === 0) start++;
    const magnitude = value.length === 0 ? Uint8Array.of(0) : value.subarray(start);
    bytes = (magnitude[0] as number) & 0x80 ? concatBytes([Uint8Array.of(0), magnitude]) : magnitude;
  } else {
    let v = BigInt(value);
    const out: number[] = [];
    // Emit two's complement octets until the remaining value is pure sign extension.
    for (;;) {
      const byte = Number(v & 0xffn);
      out.unshift(byte);
      v >>= 8n;
      if ((v === 0n && (byte & 0x80) === 0) || (v === -1n && (byte & 0x80) !== 0)) break;
    }
    bytes = Uint8Array.from(out);
  }
  return derTlv(TAG.INTEGER, bytes);
}

/** OCTET STRING. */
export function derOctetString(bytes: Uint8Array): Uint8Array {
  return derTlv(TAG.OCTET_STRING, bytes);
}

/** BOOLEAN; DER writes TRUE as 0xFF (X.690 §11.1). */
export function derBoolean(value: boolean): Uint8Array {
  return derTlv(TAG.BOOLEAN, Uint8Array.of(value ? 0xff : 0x00));
}

/** NULL. */
export function derNull(): Uint8Array {
  return Uint8Array.of(TAG.NULL, 0);
}

/** UTF8String. */
export function derUtf8String(text: string): Uint8Array {
  return derTlv(TAG.UTF8_STRING, new TextEncoder().encode(text));
}

/**
 * GeneralizedTime in UTC (X.690 §11.7): `YYYYMMDDHHMMSS[.fff]Z`, fraction without trailing
 * zeros and left out when zero, as RFC 3161 §2.4.2 requires of genTime.
 */
export function derGeneralizedTime(date: Date, withMillis = true): Uint8Array {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  let text =
    pad(date.getUTCFullYear(), 4) +
    pad(date.getUTCMonth() + 1) +
    pad(date.getUTCDate()) +
    pad(date.getUTCHours()) +
    pad(date.getUTCMinutes()) +
    pad(date.getUTCSeconds());
  const ms = date.getUTCMilliseconds();
  if (withMillis && ms !== 0) text += `.${pad(ms, 3).replace(/0+$/, '')}`;
  return derTlv(TAG.GENERALIZED_TIME, new TextEncoder().encode(`${text}Z`));
}

/**
 * RFC 5280 §4.1.2.5 Time choice as CMS signing-time uses it (RFC 5652 §11.3):
 * UTCTime for 1950–2049, GeneralizedTime otherwise, whole seconds.
 */
export function derTime(date: Date): Uint8Array {
  const year = date.getUTCFullYear();
  if (year < 1950 || year > 2049) return derGeneralizedTime(new Date(Math.floor(date.getTime() / 1000) * 1000), false);
  const pad = (n: number) => String(n).padStart(2, '0');
  const text =
    pad(year % 100) +
    pad(date.getUTCMonth() + 1) +
    pad(date.getUTCDate()) +
    pad(date.getUTCHours()) +
    pad(date.getUTCMinutes()) +
    pad(date.getUTCSeconds());
  return derTlv(TAG.UTC_TIME, new TextEncoder().encode(`${text}Z`));
}

/**
 * A BIT STRING of named bits (X.690 §11.2.2: trailing zero bits are removed), as used by
 * PKIFailureInfo in RFC 3161 §2.4.2.
 */
export function derNamedBitString(bits: readonly number[]): Uint8Array {
  if (bits.length === 0) return derTlv(TAG.BIT_STRING, Uint8Array.of(0));
  const highest = Math.max(...bits);
  const octets = new Uint8Array((highest >> 3) + 1);
  for (const bit of bits) octets[bit >> 3] = (octets[bit >> 3] as number) | (0x80 >> (bit & 7));
  const unused = octets.length * 8 - (highest + 1);
  return derTlv(TAG.BIT_STRING, Uint8Array.of(unused), octets);
}

/** A context-specific tag `[n]`, constructed: EXPLICIT wrapping or IMPLICIT SEQUENCE/SET. */
export function derContext(n: number, ...content: Uint8Array[]): Uint8Array {
  return derTlv(0xa0 | n, ...content);
}
