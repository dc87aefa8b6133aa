/**
 * The one error class of the anchor layer (AnchorRegistry client and local chain). Codes are for
 * programs and tests; messages are for people.
 */
export type AnchorErrorCode =
  // Reverts of AnchorRegistry, decoded from its custom errors.
  | 'NOT_OWNER'
  | 'NOT_PENDING_OWNER'
  | 'ZERO_OWNER'
  | 'ZERO_ROOT'
  | 'PERIOD_ALREADY_ANCHORED'
  | 'PERIOD_NOT_INCREASING'
  | 'PREVIOUS_ROOT_MISMATCH'
  /** A revert whose data is not one of AnchorRegistry's errors. */
  | 'CONTRACT_REVERTED'
  /** A mined transaction with status 0. */
  | 'TX_REVERTED'
  // Node and transport.
  | 'RPC_UNAVAILABLE'
  | 'RPC_ERROR'
  | 'NONCE_CONFLICT'
  | 'INSUFFICIENT_FUNDS'
  | 'CHAIN_MISMATCH'
  /** No code at the configured contract address. */
  | 'CONTRACT_NOT_DEPLOYED'
  | 'TIMEOUT'
  // Usage and set-up.
  | 'INVALID_ARGUMENT'
  | 'NO_SIGNER'
  | 'ARTIFACT_INVALID'
  // Local development chain (anvil).
  | 'LOCAL_CHAIN_BINARY_MISSING'
  | 'LOCAL_CHAIN_START_FAILED'
  | 'LOCAL_CHAIN_STATE_CORRUPT';

/** Thrown by everything in src/anchor; `details` carries decoded revert arguments and the like. */
export class AnchorError extends Error {
  override readonly name = 'AnchorError';

  /** Structured facts about the failure, e.g. `{ expected, given }` for PREVIOUS_ROOT_MISMATCH. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    readonly code: AnchorErrorCode,
    message: string,
    options: { cause?: unknown; details?: Readonly<Record<string, unknown>> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.details = options.details ?? {};
  }
}
