import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { createSHA256, createSM3, type IHasher } from 'hash-wasm';
import { bytesToHex } from './hex.js';

/** The digests every registered file carries; algorithm names are always written next to values. */
export interface FileDigests {
  /** SHA-256 (FIPS 180-4), lower-case hex. */
  sha256: string;
  /** SM3 (GB/T 32905-2016), lower-case hex. */
  sm3: string;
}

/** SHA-256 of `data`. */
export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

/** SHA-256 of `data` as lower-case hex. */
export function sha256Hex(data: Uint8Array): string {
  return bytesToHex(nobleSha256(data));
}

/** SM3 (GB/T 32905-2016) of `data` as lower-case hex. Async: the implementation is WebAssembly. */
export async function sm3Hex(data: Uint8Array): Promise<string> {
  const hasher = await createSM3();
  hasher.init();
  hasher.update(data);
  return hasher.digest('hex');
}

/** Feeds chunks of a file to SHA-256 and SM3 at once, so a file is read once. */
export interface FileDigester {
  update(chunk: Uint8Array): void;
  digest(): FileDigests & { size: number };
}

/**
 * A streaming digester for both algorithms; it never holds the file, so a browser can hash a
 * multi-GiB file chunk by chunk (hash-wasm: WebAssembly, same bytes as node:crypto).
 */
export async function createFileDigester(): Promise<FileDigester> {
  const [s256, s3]: IHasher[] = await Promise.all([createSHA256(), createSM3()]);
  s256!.init();
  s3!.init();
  let size = 0;
  return {
    update(chunk) {
      size += chunk.length;
      s256!.update(chunk);
      s3!.update(chunk);
    },
    digest() {
      return { sha256: s256!.digest('hex'), sm3: s3!.digest('hex'), size };
    },
  };
}
