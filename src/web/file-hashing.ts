import { createFileDigester, type FileDigests } from '../core/digests.js';

/** Bytes read per slice: large enough to keep WebAssembly busy, small enough to keep memory flat. */
export const CHUNK_BYTES = 8 * 1024 * 1024;

/**
 * SHA-256 and SM3 of a file (any Blob), read slice by slice with `Blob.slice`, so a 2 GiB file
 * never sits in memory whole; the next slice is read while the current one is hashed. The
 * bytes go only to the core's digester: nothing leaves the browser.
 */
export async function hashBlob(
  blob: Blob,
  onProgress?: (done: number, total: number) => void,
  signal?: AbortSignal,
): Promise<FileDigests & { size: number }> {
  const digester = await createFileDigester();
  const total = blob.size;
  let offset = 0;
  let next: Promise<ArrayBuffer> | undefined = total > 0 ? blob.slice(0, Math.min(CHUNK_BYTES, total)).arrayBuffer() : undefined;
  onProgress?.(0, total);
  while (next) {
    const chunk = await next;
    if (signal?.aborted) throw signal.reason ?? new DOMException('aborted', 'AbortError');
    offset += chunk.byteLength;
    next = offset < total ? blob.slice(offset, Math.min(offset + CHUNK_BYTES, total)).arrayBuffer() : undefined;
    digester.update(new Uint8Array(chunk));
    onProgress?.(offset, total);
    // Let the page paint the progress bar between slices.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return digester.digest();
}
