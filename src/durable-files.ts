// Making files survive a crash: what the vault, the peers' held copies, the local chain's state
// and the master key each need, in one place.
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** fsyncs a file or a directory; with `missingOk`, a path that does not exist has nothing to sync. */
export async function syncPath(path: string, options: { missingOk?: boolean } = {}): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if (options.missingOk && (err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `path` with `data` atomically and durably: a temporary file beside it, fsynced,
 * renamed over it, and the directory fsynced. Readers see the old content or the new, never a
 * mix; on failure the temporary file is removed.
 */
export async function writeFileDurably(path: string, data: string | Uint8Array): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temporary, 'wx', 0o600);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (err) {
    await unlink(temporary).catch(() => undefined);
    throw err;
  }
  await syncPath(dirname(path));
}

/** fsyncs a file and its directory, synchronously (a file written once at start-up). */
export function syncFileAndDirectorySync(path: string): void {
  for (const p of [path, dirname(path)]) {
    const fd = openSync(p, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}
