/** Codes of {@link PkiError}; programs branch on these, people read the message. */
export type PkiErrorCode =
  | 'INVALID_ARGUMENT'
  | 'UNSUPPORTED_KEY'
  | 'CERTIFICATE_UNREADABLE'
  | 'KEY_UNREADABLE'
  | 'PKI_INVALID'
  | 'FILE_EXISTS'
  | 'TSA_HTTP_ERROR'
  | 'TSA_REJECTED'
  | 'TSA_REPLY_INVALID';

/** The one error class of `src/pki`. */
export class PkiError extends Error {
  constructor(
    readonly code: PkiErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PkiError';
  }
}

/** Throws `PkiError('INVALID_ARGUMENT')` unless `condition` holds. */
export function validateArgument(condition: unknown, message: string): asserts condition {
  if (!condition) throw new PkiError('INVALID_ARGUMENT', message);
}
