import type { Readable } from 'node:stream';

/** What ingesting a file yields: its digests and size, computed while it streamed in. */
export interface IngestedBlob {
  sha256: string;
  sm3: string;
  size: number;
}

export interface IngestOptions {
  maxBytes: number;
  /** Sees the digests before the blob is kept: throws to refuse it, answers `'discard'` to keep no copy of an accepted one. */
  accept?: (blob: IngestedBlob) => void | 'discard' | Promise<void | 'discard'>;
}

/** Thrown when a stream is longer than allowed; nothing of it is kept. */
export class BlobTooLargeError extends Error {
  override readonly name = 'BlobTooLargeError';
  constructor(readonly maxBytes: number) {
    super(`file is larger than ${maxBytes} bytes`);
  }
}

/** The digests a read is checked against (the registered ones), beside the blob's own. */
export interface ExpectedDigests {
  sm3?: string;
  size?: number;
}

/** An original being read out: its size, and its bytes as they are checked. */
export interface BlobReader {
  size: number;
  /**
   * The plaintext. Every segment is authenticated before it is released, and the last one only
   * after the whole content matched its SHA-256 and SM3: on any mismatch the stream errors
   * instead of ending, so a consumer never sees a complete wrong file.
   */
  stream: Readable;
}

/**
 * Content-addressed storage of deposited originals. The narrow edge the registry sees, so a
 * plain directory or the encrypted, replicated vault can stand behind the same calls.
 */
export interface BlobStore {
  /**
   * Streams `source` into the store, hashing it with SHA-256 and SM3 on the way, and keeps it
   * under its SHA-256 once it is complete and flushed to disk. Never holds the whole file.
   * `accept`, when given, sees the digests first: if it throws, nothing is kept (a refused
   * upload leaves no copy behind, here or at the peers) and its error is the ingest's; if it
   * answers `'discard'`, nothing is kept either, and the ingest resolves with the digests.
   */
  ingest(source: Readable, options: IngestOptions): Promise<IngestedBlob>;
  /** True when the blob with this SHA-256 is held. */
  has(sha256: string): Promise<boolean>;
  /** Opens the blob with this SHA-256 for reading; rejects when it is not held. */
  open(sha256: string, expected?: ExpectedDigests): Promise<BlobReader>;
  /** Removes the blob with this SHA-256 (no error when it is not held). */
  delete(sha256: string): Promise<void>;
}
