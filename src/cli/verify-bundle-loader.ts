import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Script } from 'node:vm';

/**
 * Loads `archive-seal verify` from its one-file bundle (dist/cli/verify-bundle.cjs, made by
 * scripts/build-verify-cli.ts) with V8's code cache: the bytecode of the functions a verification
 * runs, saved at build time by a verification of the test vector. A short-lived command spends
 * most of its time compiling and first running code, and the cache spares it the compiling.
 *
 * The cache is only a cache: V8 refuses one made by another Node version or with other V8
 * flags, and this loader one made from other source bytes (V8 itself checks only the length),
 * and then the bundle is compiled as usual. The checks run are the same code either way.
 */

const HERE = dirname(fileURLToPath(import.meta.url));
export const VERIFY_BUNDLE = join(HERE, 'verify-bundle.cjs');

type VerifyCommand = (args: string[]) => Promise<number>;

interface LoadedBundle {
  verifyCommand: VerifyCommand;
  script: Script;
  sourceDigest: Buffer;
  /** Whether V8 took the saved cache. */
  cacheUsed: boolean;
}

/**
 * The cache file for this Node and these flags: V8 takes a cache only under the flags it was
 * made with, so the build makes one per way the command is started (bin's own flags, and none).
 */
export function verifyBundleCacheFile(dir = HERE): string {
  const key = createHash('sha256').update(`${process.version} ${process.arch} ${process.execArgv.join(' ')}`).digest('hex').slice(0, 16);
  return join(dir, `verify-bundle-${key}.cache`);
}

/** The bundled command, or undefined when there is no bundle (run from src). */
export function loadVerifyBundle(options: { useCache?: boolean } = {}): LoadedBundle | undefined {
  let source: string;
  try {
    source = readFileSync(VERIFY_BUNDLE, 'utf8');
  } catch {
    return undefined;
  }
  const sourceDigest = createHash('sha256').update(source).digest();
  let cachedData: Buffer | undefined;
  if (options.useCache !== false) {
    try {
      const saved = readFileSync(verifyBundleCacheFile());
      // The cache file starts with the SHA-256 of the source it was made from.
      if (saved.length > 32 && saved.subarray(0, 32).equals(sourceDigest)) cachedData = saved.subarray(32);
    } catch {
      // No cache for this Node and these flags: compiled as usual.
    }
  }
  // The CommonJS function wrapper, as Node's own loader puts around a .cjs file.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: VERIFY_BUNDLE,
    ...(cachedData && { cachedData }),
  });
  const module = { exports: {} as { verifyCommand?: VerifyCommand } };
  (script.runInThisContext() as (...args: unknown[]) => void)(module.exports, createRequire(VERIFY_BUNDLE), module, VERIFY_BUNDLE, HERE);
  const { verifyCommand } = module.exports;
  if (typeof verifyCommand !== 'function') throw new Error(`${VERIFY_BUNDLE} does not export verifyCommand`);
  return { verifyCommand, script, sourceDigest, cacheUsed: cachedData !== undefined && !script.cachedDataRejected };
}

/**
 * Runs `verify ARGS` once (its output discarded) and saves the code cache of what it ran, for
 * this Node and these flags. Run by the build: `node [FLAGS] verify-bundle-loader.js --make-cache ARGS`.
 */
export async function writeVerifyBundleCache(args: string[]): Promise<string> {
  const loaded = loadVerifyBundle({ useCache: false });
  if (!loaded) throw new Error(`no ${VERIFY_BUNDLE}: build it first`);
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    await loaded.verifyCommand(args);
  } finally {
    process.stdout.write = write;
  }
  const file = verifyBundleCacheFile();
  writeFileSync(file, Buffer.concat([loaded.sourceDigest, loaded.script.createCachedData()]));
  return file;
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url && process.argv[2] === '--make-cache') {
  process.stdout.write(`${await writeVerifyBundleCache(process.argv.slice(3))}\n`);
}
