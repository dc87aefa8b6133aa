// Making files survive a crash, and keeping them private: what the vault, the peers' held copies,
// the local chain's state, the database and the master key each need, in one place.
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync } from 'node:fs';
import { chmod, mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Every file the center writes is private to its user: registrants' real names, the pseudonym
 * key and the originals are in them. The modes are given explicitly (never left to the umask),
 * and `archive-seal` also sets its umask to PRIVATE_UMASK at start, for what others create on its
 * behalf (SQLite's WAL and SHM take the database's mode; anvil writes the chain's state).
 */
export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIRECTORY_MODE = 0o700;
export const PRIVATE_UMASK = 0o077;

/**
 * Creates `path` (and missing parents) as private directories; an existing `path` is made
 * private too (a data directory made by an earlier version, or by hand, with 0755): nothing
 * under a 0700 directory can be reached by other users, whatever the modes below it.
 */
export async function ensurePrivateDirectory(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
  await chmod(path, PRIVATE_DIRECTORY_MODE);
}

/** {@link ensurePrivateDirectory}, synchronously. */
export function ensurePrivateDirectorySync(path: string): void {
  mkdirSync(path, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
  chmodSync(path, PRIVATE_DIRECTORY_MODE);
}

/**
 * Makes `path` a private file, creating it empty if it does not exist (so that a library that
 * opens it next, SQLite, finds it with mode 0600 and gives its companion files that mode).
 */
export function ensurePrivateFileSync(path: string): void {
  closeSync(openSync(path, 'a', PRIVATE_FILE_MODE));
  chmodSync(path, PRIVATE_FILE_MODE);
}

/** Makes an existing `path` private; a missing one is left missing. */
export function makePrivateIfExistsSync(path: string): void {
  try {
    chmodSync(path, PRIVATE_FILE_MODE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

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
    const handle = await open(temporary, 'wx', PRIVATE_FILE_MODE);
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
