import { canonicalize } from '../core/canonical-json.js';
import { findCategory, unknownCategoryMessage } from '../core/categories.js';
import { isHexOfLength } from '../core/hex.js';
import { MAX_METADATA_BYTES, MAX_METADATA_DEPTH, MAX_METADATA_KEY_LENGTH, MAX_TEXT_LENGTH } from '../core/record-limits.js';
import { RegistryError, validateArgument } from './registry-error.js';
import { checkUserText } from './user-text.js';

/** What a registrant says about a record; the center adds id, time, registrant and salt. */
export interface RegistrationInput {
  sha256: string;
  sm3?: string;
  size?: number;
  fileName?: string;
  title?: string;
  mediaType?: string;
  category: string;
  metadata?: Record<string, unknown>;
}

/** Longer than any code of the taxonomy; what is longer is refused before it is looked up. */
const MAX_CATEGORY_LENGTH = 100;
const FIELDS = new Set(['sha256', 'sm3', 'size', 'fileName', 'title', 'mediaType', 'category', 'metadata']);
const MEDIA_TYPE = /^[a-z0-9!#$&^_.+-]{1,127}\/[a-z0-9!#$&^_.+-]{1,127}$/i;

/**
 * Checks one registration's fields and returns them normalised (digests lower-case).
 * `where` prefixes messages (e.g. "entries[3].") so a batch error names the entry.
 */
export function parseRegistrationInput(value: unknown, where = ''): RegistrationInput {
  validateArgument(isPlainObject(value), 'INVALID_INPUT', `${where || 'body'} must be a JSON object`);
  for (const key of Object.keys(value)) {
    validateArgument(FIELDS.has(key), 'INVALID_INPUT', `${where}${key} is not a registration field`);
  }
  const { sha256, sm3, size, fileName, title, mediaType, category, metadata } = value as Record<string, unknown>;
  validateArgument(isHexOfLength(sha256, 32), 'INVALID_DIGEST', `${where}sha256 must be 64 hex digits (a SHA-256 digest)`);
  validateArgument(sm3 === undefined || isHexOfLength(sm3, 32), 'INVALID_DIGEST', `${where}sm3 must be 64 hex digits (an SM3 digest)`);
  validateArgument(
    size === undefined || (Number.isSafeInteger(size) && (size as number) >= 0),
    'INVALID_INPUT',
    `${where}size must be a non-negative integer number of bytes`,
  );
  validateArgument(category !== undefined, 'INVALID_INPUT', `${where}category is required`);
  const categoryCode = checkUserText(category, `${where}category`, { maxLength: MAX_CATEGORY_LENGTH });
  if (findCategory(categoryCode) === undefined) throw new RegistryError('UNKNOWN_CATEGORY', unknownCategoryMessage(`${where}category`, categoryCode));
  checkText(fileName, `${where}fileName`);
  checkText(title, `${where}title`);
  validateArgument(
    mediaType === undefined || (typeof mediaType === 'string' && MEDIA_TYPE.test(mediaType)),
    'INVALID_INPUT',
    `${where}mediaType must be a media type such as application/pdf`,
  );
  const orderedMetadata = metadata === undefined ? undefined : checkMetadata(metadata, `${where}metadata`);
  return {
    sha256: sha256.toLowerCase(),
    ...(sm3 !== undefined && { sm3: (sm3 as string).toLowerCase() }),
    ...(size !== undefined && { size: size as number }),
    ...(fileName !== undefined && { fileName: fileName as string }),
    ...(title !== undefined && { title: title as string }),
    ...(mediaType !== undefined && { mediaType: (mediaType as string).toLowerCase() }),
    category: categoryCode,
    ...(orderedMetadata !== undefined && { metadata: orderedMetadata }),
  };
}

function checkText(value: unknown, name: string): void {
  if (value === undefined) return;
  checkUserText(value, name, { maxLength: MAX_TEXT_LENGTH });
}

/**
 * Checks metadata (the limits: src/core/record-limits.ts; the text rule: src/core/user-text.ts)
 * and gives it back with its members in canonical order (the same data), so that the record
 * holding it canonicalizes on the fast path (see canonicalize).
 *
 * The walk is a loop over an explicit stack, not a recursion, and stops at the depth limit: a
 * body nested 100,000 levels deep (JSON.parse takes it) is refused, not a stack overflow.
 */
function checkMetadata(value: unknown, name: string): Record<string, unknown> {
  validateArgument(isPlainObject(value), 'INVALID_INPUT', `${name} must be a JSON object`);
  const pending: { value: unknown; path: string; depth: number }[] = [{ value, path: name, depth: 1 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value: item, path, depth } = next;
    if (typeof item === 'string') {
      // Long text: its length is bounded by MAX_METADATA_BYTES over the whole metadata, below.
      checkUserText(item, path, { maxLength: Number.MAX_SAFE_INTEGER, multiline: true, allowEmpty: true });
    } else if (typeof item === 'number') {
      checkNumber(item, path);
    } else if (typeof item === 'object' && item !== null) {
      if (depth > MAX_METADATA_DEPTH) {
        throw new RegistryError('METADATA_TOO_DEEP', `${name} must nest at most ${MAX_METADATA_DEPTH} levels of objects and arrays; ${path} is level ${depth}`);
      }
      if (Array.isArray(item)) {
        item.forEach((element, i) => pending.push({ value: element, path: `${path}[${i}]`, depth: depth + 1 }));
      } else {
        for (const [key, member] of Object.entries(item)) {
          checkUserText(key, `a key in ${path}`, { maxLength: MAX_METADATA_KEY_LENGTH });
          pending.push({ value: member, path: `${path}.${key}`, depth: depth + 1 });
        }
      }
    }
    // true, false and null are JSON as they are.
  }
  const canonical = canonicalize(value);
  validateArgument(
    new TextEncoder().encode(canonical).length <= MAX_METADATA_BYTES,
    'METADATA_TOO_LARGE',
    `${name} must be at most ${MAX_METADATA_BYTES} bytes as canonical JSON`,
  );
  return JSON.parse(canonical) as Record<string, unknown>;
}

/**
 * Numbers in metadata must be integers that JSON parsers agree on (at most 2^53 - 1 in size). A
 * larger one has already lost digits in parsing, so the record would not hold what was sent; and
 * fractions are written differently by RFC 8785 and by common JSON libraries (0.00001 against
 * 1e-05), so an expert re-hashing a record with one of those would find a mismatch (README,
 * "Checking a certificate without our code"). Either can be sent as a string.
 */
function checkNumber(value: number, name: string): void {
  validateArgument(
    Number.isSafeInteger(value),
    'INVALID_INPUT',
    `${name}: numbers in metadata must be integers from -9007199254740991 to 9007199254740991; send others as strings`,
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
