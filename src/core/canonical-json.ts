import { MAX_JSON_DEPTH as MAX_DEPTH } from './record-limits.js';

/**
 * RFC 8785 JSON Canonicalization Scheme (JCS).
 *
 * Numbers are serialized as ECMAScript's Number.prototype.toString (RFC 8785 §3.2.2.3 adopts
 * exactly that algorithm), strings as JSON.stringify escapes them (§3.2.2.2 matches ES2019+ for
 * well-formed strings), object members sorted by their names' UTF-16 code units (§3.2.3).
 * Input must be I-JSON (RFC 7493): no NaN or Infinity, no lone surrogates.
 */
export function canonicalize(value: unknown): string {
  // Most values the center canonicalizes (its own records) are built with their members already
  // in order: then the engine's JSON.stringify writes exactly the canonical form, several times
  // faster than assembling it here. Anything else takes the general path. Values are data (as
  // JSON.parse or a literal makes them): a getter is read by the check and again by stringify.
  return isAlreadyCanonicalShape(value, 0) ? JSON.stringify(value) : serialize(value, 0);
}

/**
 * True when JSON.stringify(value) is the canonical form: plain objects whose own keys are in
 * sorted order with no undefined members, arrays without holes or undefined, finite numbers,
 * well-formed strings (keys included), within the depth limit.
 */
function isAlreadyCanonicalShape(value: unknown, depth: number): boolean {
  if (depth > MAX_DEPTH) return false;
  if (value === null) return true;
  switch (typeof value) {
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'string':
      return isWellFormed(value);
    case 'object': {
      if (Array.isArray(value)) {
        // JSON.stringify honours toJSON on arrays too; the general path does not.
        if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
        for (let i = 0; i < value.length; i++) {
          if (!(i in value) || !isAlreadyCanonicalShape(value[i], depth + 1)) return false;
        }
        return true;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      // A toJSON member would change what JSON.stringify writes.
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
      const object = value as Record<string, unknown>;
      let previous: string | undefined;
      for (const key in object) {
        if (!Object.prototype.hasOwnProperty.call(object, key)) return false;
        // Integer-like keys come first in any object, whatever the insertion order: compare all.
        if (previous !== undefined && !(previous < key)) return false;
        if (!isWellFormed(key) || object[key] === undefined || !isAlreadyCanonicalShape(object[key], depth + 1)) return false;
        previous = key;
      }
      return true;
    }
    default:
      return false;
  }
}

/** UTF-8 bytes of the canonical form: what is hashed and signed. */
export function canonicalBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalize(value));
}

/** Thrown for values JCS cannot represent. */
export class CanonicalJsonError extends Error {
  override readonly name = 'CanonicalJsonError';
}


function serialize(value: unknown, depth: number): string {
  if (depth > MAX_DEPTH) throw new CanonicalJsonError(`nesting deeper than ${MAX_DEPTH} levels`);
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError('NaN and Infinity are not JSON');
      // -0 serializes as "0" (RFC 8785 §3.2.2.3); String(-0) already gives "0".
      return String(value);
    case 'string':
      return serializeString(value);
    case 'object': {
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + serialize(value[i], depth + 1);
        return out + ']';
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new CanonicalJsonError('only plain objects, arrays and primitives are JSON');
      }
      const object = value as Record<string, unknown>;
      // Array.prototype.sort without a comparator orders by UTF-16 code units, as §3.2.3 requires.
      const keys = Object.keys(object).sort();
      let out = '{';
      let first = true;
      for (const key of keys) {
        const member = object[key];
        if (member === undefined) continue;
        out += (first ? '' : ',') + serializeString(key) + ':' + serialize(member, depth + 1);
        first = false;
      }
      return out + '}';
    }
    default:
      throw new CanonicalJsonError(`a ${typeof value} is not JSON`);
  }
}

function serializeString(s: string): string {
  if (!isWellFormed(s)) throw new CanonicalJsonError('lone surrogates are not I-JSON');
  return JSON.stringify(s);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** String.prototype.isWellFormed (ES2024) where the engine has it, else a regular expression. */
const isWellFormed: (s: string) => boolean =
  typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === 'function'
    ? (s) => (s as string & { isWellFormed(): boolean }).isWellFormed()
    : (s) => !LONE_SURROGATE.test(s);
