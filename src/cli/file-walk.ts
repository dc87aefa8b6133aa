import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { usageError } from './cli-error.js';

export interface FoundFile {
  path: string;
  size: number;
}

/** The regular files named by `paths`, directories walked recursively, in a stable order. */
export async function findFiles(paths: readonly string[]): Promise<FoundFile[]> {
  const found: FoundFile[] = [];
  const walk = async (path: string): Promise<void> => {
    let info;
    try {
      info = await stat(path);
    } catch {
      throw usageError(`cannot read ${path}: no such file or directory`);
    }
    if (info.isDirectory()) {
      const names = (await readdir(path)).sort();
      for (const name of names) await walk(join(path, name));
    } else if (info.isFile()) {
      found.push({ path, size: info.size });
    }
  };
  for (const p of paths) await walk(resolve(p));
  return found;
}
