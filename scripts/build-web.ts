/**
 * Builds the browser verifier into one self-contained HTML file (dist/web/verify.html): the
 * page's TypeScript and the src/core code it shares with the CLI, bundled by esbuild for the
 * browser platform, and the CSS, both inlined. No request for code or styles is ever made, so
 * the file works served by the center at /verify and saved to disk and opened from file://.
 *
 *   npx tsx scripts/build-web.ts        (also run by `npm run build`)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, transform, type Metafile } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const VERIFY_PAGE_FILE = join(ROOT, 'dist', 'web', 'verify.html');

export interface BuiltPage {
  html: string;
  outFile: string | null;
  /** The bundled script as inlined. */
  scriptBytes: number;
  htmlBytes: number;
  htmlGzipBytes: number;
  /** Every module in the bundle (repository-relative paths). */
  inputs: string[];
  metafile: Metafile;
}

/** Bundles and writes the page (to `outFile`, default dist/web/verify.html; null: do not write). */
export async function buildVerifyPage(options: { outFile?: string | null } = {}): Promise<BuiltPage> {
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const result = await build({
    entryPoints: [join(ROOT, 'src', 'web', 'verify-page.ts')],
    bundle: true,
    // The browser platform refuses node:* built-ins and honours packages' "browser" fields.
    platform: 'browser',
    format: 'iife',
    target: ['es2022', 'chrome100', 'firefox100', 'safari15.4'],
    minify: true,
    legalComments: 'eof',
    metafile: true,
    write: false,
    logLevel: 'silent',
    define: { __ARCHIVE_SEAL_VERSION__: JSON.stringify(version) },
  });
  const script = result.outputFiles[0]?.text;
  if (!script) throw new Error('esbuild produced no output');
  const nodeOnly = Object.keys(result.metafile.inputs).filter((p) => p.startsWith('node:') || p.includes('(disabled)'));
  if (nodeOnly.length > 0) throw new Error(`the verifier bundle pulls in Node-only modules: ${nodeOnly.join(', ')}`);

  const css = (await transform(readFileSync(join(ROOT, 'src', 'web', 'verify.css'), 'utf8'), { loader: 'css', minify: true })).code;
  const template = readFileSync(join(ROOT, 'src', 'web', 'verify.html'), 'utf8');
  // An inline script ends at the first "</script" whatever the JavaScript means; "<\/" is the same string to JS.
  const inlineScript = script.replace(/<\/(script)/gi, '<\\/$1').trim();
  const html = template.split('/*STYLE*/').join(css.trim()).split('/*SCRIPT*/').join(inlineScript);

  const outFile = options.outFile === undefined ? VERIFY_PAGE_FILE : options.outFile;
  if (outFile) {
    mkdirSync(dirname(outFile), { recursive: true });
    writeFileSync(outFile, html);
  }
  return {
    html,
    outFile,
    scriptBytes: Buffer.byteLength(inlineScript),
    htmlBytes: Buffer.byteLength(html),
    htmlGzipBytes: gzipSync(html, { level: 9 }).length,
    inputs: Object.keys(result.metafile.inputs).map((p) => relative(ROOT, join(ROOT, p))),
    metafile: result.metafile,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const page = await buildVerifyPage();
  const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  console.log(`verifier page: ${relative(ROOT, page.outFile!)} ${kib(page.htmlBytes)} (${kib(page.htmlGzipBytes)} gzip), script ${kib(page.scriptBytes)}, ${page.inputs.length} modules`);
}
