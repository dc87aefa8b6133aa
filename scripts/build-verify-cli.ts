/**
 * Bundles `archive-seal verify` into one file (dist/cli/verify-bundle.js), loaded by the CLI for
 * that command instead of the module graph under dist/cli/verify-command.js. The checks are the
 * same code (src/core and the node:crypto signature engine); one file spares Node resolving and
 * linking some hundred ES modules (pkijs, asn1js and their helpers) at every run: measured with
 * `farm-bench --vs`, 0.76 of the wall time of the unbundled command.
 *
 *   npx tsx scripts/build-verify-cli.ts        (also run by `npm run build`)
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const VERIFY_BUNDLE_FILE = join(ROOT, 'dist', 'cli', 'verify-bundle.js');

await build({
  entryPoints: [join(ROOT, 'src', 'cli', 'verify-command.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile: VERIFY_BUNDLE_FILE,
  // A few dependencies are CommonJS and call require(): give the ES module one.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: 'warning',
});
