/** What can go wrong with units, users, sessions and tokens, by a code programs can rely on. */
export type PeopleErrorCode =
  | 'INVALID_INPUT'
  | 'INVALID_TEXT'
  | 'INVALID_CREDIT_CODE'
  | 'UNKNOWN_REGION'
  | 'DUPLICATE_UNIT'
  | 'DUPLICATE_USERNAME'
  | 'WEAK_PASSWORD'
  | 'NOT_FOUND'
  | 'FORBIDDEN'
  | 'FORBIDDEN_ROLE'
  | 'INVALID_CREDENTIALS'
  | 'ACCOUNT_LOCKED'
  | 'UNIT_SUSPENDED';

/** An error of the people layer: `code` for programs, `message` for people. */
export class PeopleError extends Error {
  override readonly name = 'PeopleError';
  constructor(
    readonly code: PeopleErrorCode,
    message: string,
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(message, options);
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }

  /** For ACCOUNT_LOCKED: seconds until logins are taken again. */
  readonly retryAfterSeconds: number | undefined;
}

/** Throws `PeopleError(code, message)` unless `condition` holds. */
export function validatePeople(condition: unknown, code: PeopleErrorCode, message: string): asserts condition {
  if (!condition) throw new PeopleError(code, message);
}
