import type { Readable } from 'node:stream';

/** What ingesting a file yields: its digests and size, computed while it streamed in. */
export interface IngestedBlob {
  sha256: string;
  sm3: string;
  size: number;
}

/** Thrown when a stream is longer than allowed; nothing of it is kept. */
export class BlobTooLargeError extends Error {
  override readonly name = 'BlobTooLargeError';
  constructor(readonly maxBytes: number) {
    super(`file is larger than ${maxBytes} bytes`);
  }
}

/**
 * Content-addressed storage of deposited originals. The narrow edge the registry sees, so the
 * plain directory here and the encrypted, replicated vault can stand behind the same calls.
 */
export interface BlobStore {
  /**
   * Streams `source` into the store, hashing it with SHA-256 and SM3 on the way, and keeps it
   * under its SHA-256 once it is complete and flushed to disk. Never holds the whole file.
   */
  ingest(source: Readable, options: { maxBytes: number }): Promise<IngestedBlob>;
  /** True when the blob with this SHA-256 is held. */
  has(sha256: string): Promise<boolean>;
}
