/**
 * Bundles `archive-seal verify` into one file (dist/cli/verify-bundle.cjs), loaded by the CLI for
 * that command instead of the module graph under dist/cli/verify-command.js, and saves V8's code
 * cache of one verification of the test vector beside it (src/cli/verify-bundle-loader.ts). The
 * checks are the same code (src/core and the node:crypto signature engine); one file spares Node
 * resolving and linking some hundred ES modules (pkijs, asn1js and their helpers) at every run,
 * and the cache spares it compiling them (docs/benchmarks.md, "archive-seal verify start-up").
 *
 *   npx tsx scripts/build-verify-cli.ts        (also run by `npm run build`, after tsc)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST_CLI = join(ROOT, 'dist', 'cli');
export const VERIFY_BUNDLE_FILE = join(DIST_CLI, 'verify-bundle.cjs');

await build({
  entryPoints: [join(ROOT, 'src', 'cli', 'verify-command.ts')],
  bundle: true,
  platform: 'node',
  // CommonJS: the loader compiles it as a script, which is what V8's code cache is made for.
  format: 'cjs',
  target: 'node20',
  outfile: VERIFY_BUNDLE_FILE,
  // Half the bytes (0.47 MB, was 0.89): Node reads, decodes and compiles the whole file at every
  // run. Names that matter are strings (error classes set their own `name`).
  minify: true,
  logLevel: 'warning',
});

// Code caches: V8 takes one only under the flags it was made with, so one for `archive-seal`
// started by its own #! line (bin/archive-seal.js: its V8 flags) and one for `node bin/archive-seal.js`.
for (const old of readdirSync(DIST_CLI).filter((f) => /^verify-bundle-[0-9a-f]{16}\.cache$/.test(f))) unlinkSync(join(DIST_CLI, old));
const shebang = readFileSync(join(ROOT, 'bin', 'archive-seal.js'), 'utf8').split('\n')[0] ?? '';
const binFlags = (/^#!\/usr\/bin\/env -S node(.*)$/.exec(shebang)?.[1] ?? '').split(' ').filter((f) => f !== '');
const vector = JSON.parse(readFileSync(join(ROOT, 'test', 'vectors', 'certificate-v1.json'), 'utf8')) as { certificate: unknown; file: string; trustRoot: string };
const dir = mkdtempSync(join(tmpdir(), 'archive-seal-verify-cache-'));
try {
  writeFileSync(join(dir, 'file'), Buffer.from(vector.file, 'base64'));
  writeFileSync(join(dir, 'cert.json'), JSON.stringify(vector.certificate));
  const args = [join(dir, 'file'), join(dir, 'cert.json'), '--trust', join(ROOT, vector.trustRoot), '--allow-development'];
  for (const flags of [binFlags, []]) {
    const made = spawnSync(process.execPath, [...flags, join(DIST_CLI, 'verify-bundle-loader.js'), '--make-cache', ...args], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`making the verify code cache (flags: ${flags.join(' ') || 'none'}) failed:\n${made.stdout}${made.stderr}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
