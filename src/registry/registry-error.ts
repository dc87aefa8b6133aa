/** What can go wrong in the registry, by a code programs can rely on. */
export type RegistryErrorCode =
  | 'INVALID_INPUT'
  | 'INVALID_TEXT'
  | 'METADATA_TOO_DEEP'
  | 'METADATA_TOO_LARGE'
  | 'INVALID_DIGEST'
  | 'UNKNOWN_CATEGORY'
  | 'BATCH_TOO_LARGE'
  | 'EMPTY_BATCH'
  | 'DIGEST_MISMATCH'
  | 'DIGEST_CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'NOT_FOUND'
  | 'NOTHING_TO_SEAL'
  | 'SEAL_IN_PROGRESS'
  | 'NOT_YET_ANCHORED';

/** An error of the registry layer: `code` for programs, `message` for people. */
export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  constructor(
    readonly code: RegistryErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Throws `RegistryError(code, message)` unless `condition` holds. */
export function validateArgument(
  condition: unknown,
  code: RegistryErrorCode,
  message: string,
): asserts condition {
  if (!condition) throw new RegistryError(code, message);
}

/** For what cannot happen: a failed invariant is a bug, not bad input. */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`invariant failed: ${message}`);
}
