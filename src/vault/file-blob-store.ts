import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { access, mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BlobTooLargeError, type BlobStore, type IngestedBlob } from './blob-store.js';

/**
 * Blobs as files under `root/sha256/ab/cd/<sha256>`, written to `root/tmp` first, fsynced, then
 * renamed into place, so a crash never leaves a partial file under a digest's name.
 */
export class FileBlobStore implements BlobStore {
  constructor(private readonly root: string) {}

  async ingest(source: Readable, options: { maxBytes: number }): Promise<IngestedBlob> {
    const tmpDir = join(this.root, 'tmp');
    await mkdir(tmpDir, { recursive: true });
    const tmp = join(tmpDir, randomBytes(12).toString('hex'));
    const sha256 = createHash('sha256');
    const sm3 = createHash('sm3');
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > options.maxBytes) return done(new BlobTooLargeError(options.maxBytes));
        sha256.update(chunk);
        sm3.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(source, meter, createWriteStream(tmp, { highWaterMark: 1 << 20 }));
      const handle = await open(tmp, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      const blob = { sha256: sha256.digest('hex'), sm3: sm3.digest('hex'), size };
      const target = this.pathOf(blob.sha256);
      await mkdir(join(target, '..'), { recursive: true });
      await rename(tmp, target); // same content under the same name: replacing is harmless
      return blob;
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async has(sha256: string): Promise<boolean> {
    try {
      await access(this.pathOf(sha256));
      return true;
    } catch {
      return false;
    }
  }

  /** Where the blob with this SHA-256 lives. */
  pathOf(sha256: string): string {
    return join(this.root, 'sha256', sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }
}
