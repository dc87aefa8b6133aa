import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** SHA-256 and SM3 of a file, read once in 1 MiB chunks, and its size. */
export async function digestFile(path: string): Promise<{ sha256: string; sm3: string; size: number }> {
  const sha256 = createHash('sha256');
  const sm3 = createHash('sm3');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    sha256.update(chunk);
    sm3.update(chunk);
    size += chunk.length;
  }
  return { sha256: sha256.digest('hex'), sm3: sm3.digest('hex'), size };
}
