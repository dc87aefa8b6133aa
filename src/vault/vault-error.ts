/** What can go wrong in the vault and its replication, by a code programs can rely on. */
export type VaultErrorCode =
  | 'MASTER_KEY_MISSING'
  | 'MASTER_KEY_INVALID'
  | 'MASTER_KEY_MISMATCH'
  | 'BLOB_NOT_FOUND'
  | 'BLOB_CORRUPT'
  | 'DIGEST_MISMATCH'
  | 'PEER_UNKNOWN'
  | 'PEER_FAILED'
  | 'BUNDLE_INVALID'
  | 'BUNDLE_TOO_LARGE'
  | 'RECOVERY_FAILED'
  | 'INVALID_REQUEST'
  | 'NOT_HELD'
  | 'OFFSET_MISMATCH'
  | 'HELD_DIFFERENT';

/** An error of the vault layer: `code` for programs, `message` for people. */
export class VaultError extends Error {
  override readonly name = 'VaultError';
  constructor(
    readonly code: VaultErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
