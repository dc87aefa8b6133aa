import { canonicalBytes } from './canonical-json.js';
import { sha256 } from './digests.js';
import type { FileDigests } from './digests.js';

export const RECORD_FORMAT = 'archive-seal/record@1';

/** Who registered: a unit or person by id and name, or a pseudonym for a private registrant. */
export type Registrant = { id: string; name: string } | { pseudonym: string };

/**
 * The registration's facts. Its RFC 8785 canonical bytes are what the leaf commits to; every
 * field here is shown in the certificate and can be recomputed by anyone holding it.
 */
export interface RegistrationRecord {
  format: typeof RECORD_FORMAT;
  /** The registering center's identifier. */
  center: string;
  registrationId: number;
  /** UTC, ISO 8601 with milliseconds. */
  registeredAt: string;
  registrant: Registrant;
  /** Code from the category taxonomy (`GET /v1/categories`). */
  category: string;
  title?: string;
  fileName?: string;
  size?: number;
  mediaType?: string;
  /** Digests of the file; `sm3` is absent when a hash-only registrant did not give it. */
  digests: { sha256: string; sm3?: string };
  /** Whether the center holds the original (deposited) or only its digests. */
  deposit: 'file' | 'hash-only';
  /** DA/T 46 style archival metadata where given (fonds code, archival code 档号, retention…). */
  metadata?: Record<string, unknown>;
}

/** SHA-256 of the record's canonical (RFC 8785) bytes. */
export function recordDigest(record: RegistrationRecord): Uint8Array {
  return sha256(canonicalBytes(record));
}

export type { FileDigests };
