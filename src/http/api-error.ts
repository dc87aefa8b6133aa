import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { PeopleErrorCode } from '../people/people-error.js';
import type { RegistryErrorCode } from '../registry/registry-error.js';

/** Error codes of the HTTP API; each is documented in the README. */
export type ApiErrorCode =
  | RegistryErrorCode
  | PeopleErrorCode
  | 'INVALID_JSON'
  | 'INVALID_ID'
  | 'UNAUTHORIZED'
  | 'INVALID_TOKEN'
  | 'INVALID_SESSION'
  | 'CSRF_REJECTED'
  | 'FORBIDDEN'
  | 'ROUTE_NOT_FOUND'
  | 'UNSUPPORTED_MEDIA_TYPE'
  /** A multipart request without a part it needs (`POST /v1/verify`: "file", "certificate"). */
  | 'MISSING_PART'
  /** A certificate PDF that cannot be read, or that carries no certificate JSON attachment. */
  | 'PDF_UNREADABLE'
  | 'PDF_NO_CERTIFICATE'
  | 'INTERNAL';

/** An error the API answers with `{ "error": { "code", "message" } }` and `status`. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: ApiErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The HTTP status for each registry error code. */
export const REGISTRY_ERROR_STATUS: Readonly<Record<RegistryErrorCode, ContentfulStatusCode>> = Object.freeze({
  INVALID_INPUT: 400,
  INVALID_TEXT: 400,
  METADATA_TOO_DEEP: 400,
  METADATA_TOO_LARGE: 400,
  INVALID_DIGEST: 400,
  UNKNOWN_CATEGORY: 400,
  EMPTY_BATCH: 400,
  BATCH_TOO_LARGE: 413,
  PAYLOAD_TOO_LARGE: 413,
  DIGEST_MISMATCH: 422,
  DIGEST_CONFLICT: 409,
  NOT_FOUND: 404,
  NOTHING_TO_SEAL: 409,
  SEAL_IN_PROGRESS: 409,
  NOT_YET_ANCHORED: 409,
});

/** The HTTP status for each people error code. */
export const PEOPLE_ERROR_STATUS: Readonly<Record<PeopleErrorCode, ContentfulStatusCode>> = Object.freeze({
  INVALID_INPUT: 400,
  INVALID_TEXT: 400,
  INVALID_CREDIT_CODE: 400,
  UNKNOWN_REGION: 400,
  WEAK_PASSWORD: 400,
  DUPLICATE_UNIT: 409,
  DUPLICATE_USERNAME: 409,
  NOT_FOUND: 404,
  FORBIDDEN: 403,
  FORBIDDEN_ROLE: 403,
  INVALID_CREDENTIALS: 401,
  // 423 Locked (RFC 4918 §11.3): the account is locked for a while; Retry-After says how long.
  ACCOUNT_LOCKED: 423,
  UNIT_SUSPENDED: 403,
});
