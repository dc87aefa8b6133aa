import { canonicalize, CanonicalJsonError } from '../core/canonical-json.js';
import { findCategory, unknownCategoryMessage } from '../core/categories.js';
import { isHexOfLength } from '../core/hex.js';
import { RegistryError, validateArgument } from './registry-error.js';

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

export const MAX_TEXT_LENGTH = 1024;
export const MAX_METADATA_BYTES = 16 * 1024;
const FIELDS = new Set(['sha256', 'sm3', 'size', 'fileName', 'title', 'mediaType', 'category', 'metadata']);
const CONTROL = /[\u0000-\u001f\u007f]/;
/** Half of a UTF-16 surrogate pair without the other: JSON can carry one (`"\\ud800"`), UTF-8 and RFC 8785 cannot. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
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
  validateArgument(typeof category === 'string' && category.length > 0, 'INVALID_INPUT', `${where}category is required`);
  if (findCategory(category) === undefined) throw new RegistryError('UNKNOWN_CATEGORY', unknownCategoryMessage(`${where}category`, category));
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
    category,
    ...(orderedMetadata !== undefined && { metadata: orderedMetadata }),
  };
}

/** True for text a record can hold as it is: no control characters, no unpaired surrogates. */
export function isPlainText(value: string): boolean {
  return !CONTROL.test(value) && !LONE_SURROGATE.test(value);
}

function checkText(value: unknown, name: string): void {
  if (value === undefined) return;
  validateArgument(
    typeof value === 'string' && value.length > 0 && value.length <= MAX_TEXT_LENGTH && isPlainText(value),
    'INVALID_INPUT',
    `${name} must be text of 1 to ${MAX_TEXT_LENGTH} characters without control characters or unpaired surrogates`,
  );
}

/**
 * Checks metadata and gives it back with its members in canonical order (the same data), so that
 * the record holding it canonicalizes on the fast path (see canonicalize).
 */
function checkMetadata(value: unknown, name: string): Record<string, unknown> {
  validateArgument(isPlainObject(value), 'INVALID_INPUT', `${name} must be a JSON object`);
  checkNumbers(value, name);
  let canonical: string;
  try {
    canonical = canonicalize(value);
  } catch (err) {
    if (err instanceof CanonicalJsonError) throw new RegistryError('INVALID_INPUT', `${name}: ${err.message}`);
    throw err;
  }
  validateArgument(
    new TextEncoder().encode(canonical).length <= MAX_METADATA_BYTES,
    'INVALID_INPUT',
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
function checkNumbers(value: unknown, name: string): void {
  if (typeof value === 'number') {
    validateArgument(
      Number.isSafeInteger(value),
      'INVALID_INPUT',
      `${name}: numbers in metadata must be integers from -9007199254740991 to 9007199254740991; send others as strings`,
    );
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => checkNumbers(item, `${name}[${i}]`));
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) checkNumbers(item, `${name}.${key}`);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
