/**
 * A strict DER (X.690 §10) reader that keeps each element's byte range, so a TSA can copy
 * the request's nonce and messageImprint into its answer byte for byte (RFC 3161 §2.4.2).
 * Anything that is not DER (indefinite or non-minimal lengths, truncation) throws.
 */

/** One decoded element. `der` is the whole TLV, `content` its value octets (views, not copies). */
export interface DerElement {
  /** The identifier octet (class, constructed bit and tag number < 31). */
  tag: number;
  constructed: boolean;
  der: Uint8Array;
  content: Uint8Array;
}

/** Thrown on input that is not well-formed DER. */
export class DerFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DerFormatError';
  }
}

/** Reads the element at `offset`; returns it and the offset just past it. */
export function readDerElement(bytes: Uint8Array, offset = 0): { element: DerElement; next: number } {
  const tag = bytes[offset];
  if (tag === undefined) throw new DerFormatError('unexpected end of input');
  if ((tag & 0x1f) === 0x1f) throw new DerFormatError('high tag numbers are not used here');
  let pos = offset + 1;
  const first = bytes[pos++];
  if (first === undefined) throw new DerFormatError('missing length');
  let length: number;
  if (first < 0x80) {
    length = first;
  } else {
    const count = first & 0x7f;
    // 0x80 is BER's indefinite form; DER forbids it (X.690 §10.1), and >4 octets is absurd here.
    if (count === 0 || count > 4) throw new DerFormatError('unsupported length form');
    length = 0;
    for (let i = 0; i < count; i++) {
      const b = bytes[pos++];
      if (b === undefined) throw new DerFormatError('truncated length');
      length = length * 256 + b;
    }
    if (length < 0x80 || (bytes[offset + 2] === 0)) throw new DerFormatError('non-minimal length');
  }
  const end = pos + length;
  if (end > bytes.length) throw new DerFormatError('element runs past the end of input');
  return {
    element: {
      tag,
      constructed: (tag & 0x20) !== 0,
      der: bytes.subarray(offset, end),
      content: bytes.subarray(pos, end),
    },
    next: end,
  };
}

/** Reads exactly one element filling all of `bytes`. */
export function readDer(bytes: Uint8Array): DerElement {
  const { element, next } = readDerElement(bytes, 0);
  if (next !== bytes.length) throw new DerFormatError('trailing bytes after the element');
  return element;
}

/** The children of a constructed element. */
export function derChildren(element: DerElement): DerElement[] {
  if (!element.constructed) throw new DerFormatError('not a constructed element');
  const children: DerElement[] = [];
  for (let pos = 0; pos < element.content.length; ) {
    const { element: child, next } = readDerElement(element.content, pos);
    children.push(child);
    pos = next;
  }
  return children;
}

/** Asserts the element's identifier octet. */
export function expectTag(element: DerElement | undefined, tag: number, what: string): DerElement {
  if (!element || element.tag !== tag) throw new DerFormatError(`expected ${what}`);
  return element;
}

/** Dotted text of an OBJECT IDENTIFIER's content octets (X.690 §8.19). */
export function decodeOid(content: Uint8Array): string {
  if (content.length === 0) throw new DerFormatError('empty OID');
  const arcs: bigint[] = [];
  let value = 0n;
  for (let i = 0; i < content.length; i++) {
    const b = content[i] as number;
    if (value === 0n && b === 0x80) throw new DerFormatError('non-minimal OID arc');
    value = (value << 7n) | BigInt(b & 0x7f);
    if ((b & 0x80) === 0) {
      arcs.push(value);
      value = 0n;
    } else if (i === content.length - 1) {
      throw new DerFormatError('truncated OID');
    }
  }
  const first = arcs[0] as bigint;
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].join('.');
}

/** The value of an INTEGER's content octets (two's complement), checking DER minimality. */
export function decodeInteger(content: Uint8Array): bigint {
  if (content.length === 0) throw new DerFormatError('empty INTEGER');
  const b0 = content[0] as number;
  const b1 = content[1];
  if (b1 !== undefined && ((b0 === 0 && (b1 & 0x80) === 0) || (b0 === 0xff && (b1 & 0x80) !== 0))) {
    throw new DerFormatError('non-minimal INTEGER');
  }
  let v = 0n;
  for (const b of content) v = (v << 8n) | BigInt(b);
  if (b0 & 0x80) v -= 1n << BigInt(content.length * 8);
  return v;
}

/** The value of a DER BOOLEAN's content octets (X.690 §11.1: only 0x00 and 0xFF). */
export function decodeBoolean(content: Uint8Array): boolean {
  if (content.length !== 1 || (content[0] !== 0 && content[0] !== 0xff)) throw new DerFormatError('invalid BOOLEAN');
  return content[0] === 0xff;
}
