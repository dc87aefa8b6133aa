import { access, constants, lstat, readdir, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join, resolve } from 'node:path';
import { describeFileError, usageError } from './cli-error.js';

export interface FoundFile {
  path: string;
  size: number;
}

/** An entry met inside a directory that is not registered, and why. */
export interface PassedOver {
  path: string;
  reason: string;
}

export interface FileWalk {
  /** Regular files to register, in a stable order. */
  files: FoundFile[];
  /** Symbolic links and special files inside the directories: not records, left as they are. */
  skipped: PassedOver[];
  /** Entries inside the directories that could not be read: not registered, so the run fails. */
  unreadable: PassedOver[];
}

/**
 * The regular files named by `paths`, directories walked recursively, in a stable order.
 *
 * A path named on the command line is followed when it is a symbolic link (naming it is the
 * user's choice, as `find -H` does); inside a directory, symbolic links are never followed (a
 * link to `/etc/passwd` or to `..` is not part of the records) but reported in `skipped`. A named
 * path that cannot be read is a usage error; an entry inside a directory that cannot be read goes
 * to `unreadable` with its real reason, and the walk goes on.
 */
export async function findFiles(paths: readonly string[]): Promise<FileWalk> {
  const walk: FileWalk = { files: [], skipped: [], unreadable: [] };
  for (const p of paths) {
    const path = resolve(p);
    const info = await statNamedPath(path);
    if (info.isDirectory()) {
      let names: string[];
      try {
        names = await readdir(path);
      } catch (err) {
        throw usageError(`cannot read ${path}: ${describeFileError(err)}`);
      }
      await walkEntries(path, names, walk);
    } else if (info.isFile()) {
      try {
        await access(path, constants.R_OK);
      } catch (err) {
        throw usageError(`cannot read ${path}: ${describeFileError(err)}`);
      }
      walk.files.push({ path, size: info.size });
    } else {
      throw usageError(`${path} is not a regular file or directory`);
    }
  }
  return walk;
}

async function statNamedPath(path: string): Promise<Stats> {
  try {
    return await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      const link = await lstat(path).catch(() => undefined);
      if (link?.isSymbolicLink()) throw usageError(`cannot read ${path}: a symbolic link to a file that does not exist`);
    }
    throw usageError(`cannot read ${path}: ${describeFileError(err)}`);
  }
}

async function walkEntries(dir: string, names: string[], walk: FileWalk): Promise<void> {
  for (const name of names.sort()) {
    const path = join(dir, name);
    try {
      const info = await lstat(path);
      if (info.isSymbolicLink()) {
        walk.skipped.push({ path, reason: 'symbolic link, not followed' });
      } else if (info.isDirectory()) {
        await walkEntries(path, await readdir(path), walk);
      } else if (info.isFile()) {
        await access(path, constants.R_OK);
        walk.files.push({ path, size: info.size });
      } else {
        walk.skipped.push({ path, reason: 'not a regular file or directory' });
      }
    } catch (err) {
      walk.unreadable.push({ path, reason: `cannot read: ${describeFileError(err)}` });
    }
  }
}
