import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { RegistryErrorCode } from '../registry/registry-error.js';

/** Error codes of the HTTP API; each is documented in the README. */
export type ApiErrorCode =
  | RegistryErrorCode
  | 'INVALID_JSON'
  | 'INVALID_ID'
  | 'UNAUTHORIZED'
  | 'INVALID_TOKEN'
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
