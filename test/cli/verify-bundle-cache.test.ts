import { spawnSync } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTempDir } from '../helpers/temp-dir.js';

// `archive-seal verify` loads its bundle with V8's code cache made at build time
// (src/cli/verify-bundle-loader.ts). The cache must be used when it fits, and never when the
// bundle's bytes are not the ones it was made from: V8 itself compares only the length, so a
// same-length change would otherwise run stale bytecode.
const ROOT = join(import.meta.dirname, '..', '..');
const DIST_CLI = join(ROOT, 'dist', 'cli');
const vector = JSON.parse(readFileSync(join(ROOT, 'test', 'vectors', 'certificate-v1.json'), 'utf8')) as { certificate: unknown; file: string };

/** Loads the bundle in `dir` with a fresh node (no flags) and verifies the vector: whether the cache was used, and the exit code. */
function loadAndVerify(dir: string, work: string): { cacheUsed: boolean; code: number } {
  writeFileSync(join(work, 'file'), Buffer.from(vector.file, 'base64'));
  writeFileSync(join(work, 'cert.json'), JSON.stringify(vector.certificate));
  const script = join(work, 'probe.mjs');
  writeFileSync(
    script,
    `const m = await import(${JSON.stringify(join(dir, 'verify-bundle-loader.js'))});
const b = m.loadVerifyBundle();
process.stdout.write = () => true;
const code = await b.verifyCommand([${JSON.stringify(join(work, 'file'))}, ${JSON.stringify(join(work, 'cert.json'))}, '--trust', ${JSON.stringify(join(ROOT, 'certs', 'dev', 'root-ca.pem'))}, '--allow-development']);
process.stderr.write(JSON.stringify({ cacheUsed: b.cacheUsed, code }));`,
  );
  const run = spawnSync(process.execPath, [script], { encoding: 'utf8' });
  return JSON.parse(run.stderr) as { cacheUsed: boolean; code: number };
}

describe("the verify bundle's code cache", () => {
  it('is used as built, and the verification gives its verdict (exit 3: the anchor not checked)', () => {
    const work = makeTempDir();
    try {
      expect(loadAndVerify(DIST_CLI, work.path)).toEqual({ cacheUsed: true, code: 3 });
    } finally {
      work.remove();
    }
  });

  it('is not used for a bundle changed in place (same length), which still runs and verifies', () => {
    const copy = makeTempDir();
    const work = makeTempDir();
    try {
      for (const f of readdirSync(DIST_CLI).filter((f) => f === 'verify-bundle-loader.js' || /^verify-bundle/.test(f))) copyFileSync(join(DIST_CLI, f), join(copy.path, f));
      const bundle = join(copy.path, 'verify-bundle.cjs');
      const source = readFileSync(bundle, 'utf8');
      const changed = source.replace('archive-seal/certificate@1', 'archive-seal/certificate@9');
      expect(changed).not.toBe(source);
      expect(changed.length).toBe(source.length);
      writeFileSync(bundle, changed);
      // Compiled afresh: the changed bytes run (this certificate's format is no longer known).
      expect(loadAndVerify(copy.path, work.path)).toEqual({ cacheUsed: false, code: 1 });
    } finally {
      copy.remove();
      work.remove();
    }
  });
});
