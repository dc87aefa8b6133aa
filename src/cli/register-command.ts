import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { readFile } from 'node:fs/promises';
import { findCategory, unknownCategoryMessage } from '../core/categories.js';
import { MAX_TEXT_LENGTH } from '../core/record-limits.js';
import { userTextProblem } from '../core/user-text.js';
import type { RegistrationView } from '../registry/registration-view.js';
import type { ApiClient } from './api-client.js';
import { CliError, describeFileError, EXIT_FAILURE, EXIT_OK, usageError } from './cli-error.js';
import { readCatalog } from './catalog.js';
import { CONNECTION_OPTIONS, connect } from './connection.js';
import { findFiles, type FoundFile } from './file-walk.js';
import { ProgressBar } from './progress-bar.js';
import { digestFile } from './file-digests.js';

export { digestFile };

export const REGISTER_USAGE = `archive-seal register <file|dir>... --category CODE [--title T] [--meta KEY=VALUE]... [--metadata FILE.json] [--catalog FILE.csv] [--hash-only] [--json]
  Registers files (directories recursively) with a running center. Files are uploaded and kept
  in the center's vault; with --hash-only only their SHA-256 and SM3 digests leave this machine.
  --category  the category code (archive-seal categories lists them)
  --title     the title of every file named (default: none; the record keeps the file name)
  --meta      one metadata element, repeatable: --meta 档号=J012-WS·2024-Y-0001 --meta 保管期限=永久
  --metadata  a JSON object of metadata elements ({"全宗号":"J012","保管期限":"永久"}); --meta adds to
              it and wins for a key given in both. The same metadata goes with every file named.
  --catalog   a transfer catalog (移交目录) saved from a spreadsheet as CSV UTF-8, one row per file:
              a column 文件名 (or fileName) names the file, 题名 (or title) gives its title, every
              other column is a metadata element (档号, 保管期限 …) of that file, over --meta and
              --metadata. Every file needs its row and every row its file (checked first).
  Symbolic links inside directories are not followed: each is reported as skipped. Entries that
  cannot be read are reported as failed after the rest is registered (exit 1).
  Prints ID<TAB>STATUS<TAB>sha256:HEX<TAB>PATH per file (--json: a JSON list).
  --server URL, --token T (or ARCHIVE_SEAL_SERVER, ARCHIVE_SEAL_TOKEN)`;

const BATCH = 1000; // hash-only entries per batch request
const PARALLEL_UPLOADS = 3;

/** What every file of one run is registered with. */
interface Common {
  category: string;
  title?: string;
  metadata?: Record<string, unknown>;
}

interface Line {
  path: string;
  id?: number;
  status?: string;
  created?: boolean;
  sha256?: string;
  error?: string;
}

/**
 * `archive-seal register`: exit 0 when every file registered, 1 when any failed or could not be
 * read, 2 on usage (a named path that cannot be read included).
 */
export async function registerCommand(args: string[], env: Readonly<Record<string, string | undefined>>): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...CONNECTION_OPTIONS,
      category: { type: 'string' },
      title: { type: 'string' },
      meta: { type: 'string', multiple: true, default: [] },
      metadata: { type: 'string' },
      catalog: { type: 'string' },
      'hash-only': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  if (positionals.length === 0) throw usageError('name at least one file or directory to register');
  if (!values.category) throw usageError('--category is required (see GET /v1/categories)');
  if (!findCategory(values.category)) throw usageError(unknownCategoryMessage('--category', values.category));
  const titleProblem = values.title === undefined ? undefined : userTextProblem(values.title, '--title', { maxLength: MAX_TEXT_LENGTH });
  if (titleProblem) throw usageError(titleProblem);
  const metadata = await readMetadata(values.metadata, values.meta);
  const client = connect(values, env, { needsToken: true });
  const { files: found, skipped, unreadable } = await findFiles(positionals);
  for (const entry of skipped) process.stderr.write(`skipped\t${entry.path}\t${entry.reason}\n`);
  // A file whose name the center refuses (the text rule, src/core/user-text.ts) fails here, unsent.
  const refusedNames: Line[] = [];
  const files = found.filter((file) => {
    const problem = userTextProblem(basename(file.path), 'the file name', { maxLength: MAX_TEXT_LENGTH });
    if (problem) refusedNames.push({ path: file.path, error: problem });
    return problem === undefined;
  });
  if (found.length === 0 && unreadable.length === 0) throw usageError('no files found under the paths given');

  const catalog = values.catalog === undefined ? undefined : await readCatalog(values.catalog, files);
  const progress = new ProgressBar(files.length, files.reduce((n, f) => n + f.size, 0));
  const common: Common = {
    category: values.category,
    ...(values.title !== undefined && { title: values.title }),
    ...(metadata !== undefined && { metadata }),
  };
  // A catalog row is about one file: its title and elements win over those given for all.
  const forFile = (file: FoundFile): Common => {
    const entry = catalog?.get(file);
    if (!entry) return common;
    const merged = { ...common.metadata, ...entry.metadata };
    return { ...common, ...(entry.title !== undefined && { title: entry.title }), ...(Object.keys(merged).length > 0 && { metadata: merged }) };
  };
  const registered = values['hash-only']
    ? await registerHashOnly(client, files, forFile, progress)
    : await registerUploads(client, files, forFile, progress);
  progress.finish();
  // What could not be read is named with the failures, and fails the run like them.
  const lines: Line[] = [...registered, ...refusedNames, ...unreadable.map((entry) => ({ path: entry.path, error: entry.reason }))];

  if (values.json) process.stdout.write(JSON.stringify(lines, null, 2) + '\n');
  for (const line of lines) {
    if (line.error) process.stderr.write(`failed\t${line.path}\t${line.error}\n`);
    else if (!values.json) {
      process.stdout.write(`${line.id}\t${line.status}${line.created ? '' : ' (already registered)'}\tsha256:${line.sha256}\t${line.path}\n`);
    }
  }
  return lines.some((l) => l.error) ? EXIT_FAILURE : EXIT_OK;
}

async function registerUploads(
  client: ApiClient,
  files: FoundFile[],
  forFile: (file: FoundFile) => Common,
  progress: ProgressBar,
): Promise<Line[]> {
  const lines: Line[] = new Array(files.length);
  // Multipart text parts; the file's name is sent as a field too, exactly (a multipart parser
  // takes a name with a backslash for a Windows path and keeps only what follows it).
  const fields = (file: FoundFile, common = forFile(file)): Record<string, string> => ({
    category: common.category,
    fileName: basename(file.path),
    ...(common.title !== undefined && { title: common.title }),
    ...(common.metadata !== undefined && { metadata: JSON.stringify(common.metadata) }),
  });
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      const file = files[i]!;
      try {
        const { created, body: r } = await client.upload<RegistrationView>('/v1/registrations', file.path, file.size, fields(file));
        lines[i] = { path: file.path, id: r.id, status: r.status, created, sha256: r.digests.sha256 };
      } catch (err) {
        if (!(err instanceof CliError) || err.exitCode !== EXIT_FAILURE) throw err;
        lines[i] = { path: file.path, error: err.message };
      }
      progress.tick(file.size);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_UPLOADS, files.length) }, worker));
  return lines;
}

async function registerHashOnly(
  client: ApiClient,
  files: FoundFile[],
  forFile: (file: FoundFile) => Common,
  progress: ProgressBar,
): Promise<Line[]> {
  const lines: Line[] = [];
  for (let start = 0; start < files.length; start += BATCH) {
    const slice: FoundFile[] = [];
    const entries = [];
    for (const file of files.slice(start, start + BATCH)) {
      try {
        const digests = await digestFile(file.path);
        entries.push({ ...forFile(file), ...digests, fileName: basename(file.path) });
        slice.push(file);
      } catch (err) {
        lines.push({ path: file.path, error: `cannot read: ${describeFileError(err)}` });
      }
      progress.tick(file.size);
    }
    if (slice.length === 0) continue;
    try {
      const answer = await client.json<{
        registrations: { id: number; created: boolean; status: string; digests: { sha256: string } }[];
      }>('POST', '/v1/registrations/batch', { entries });
      answer.registrations.forEach((r, i) =>
        lines.push({ path: slice[i]!.path, id: r.id, status: r.status, created: r.created, sha256: r.digests.sha256 }),
      );
    } catch (err) {
      if (!(err instanceof CliError) || err.exitCode !== EXIT_FAILURE) throw err;
      for (const file of slice) lines.push({ path: file.path, error: err.message });
    }
  }
  return lines;
}

/**
 * The metadata of `--metadata FILE.json` (an object) and `--meta KEY=VALUE` (each a string; the
 * first = splits), or undefined when neither is given. Checked here only for form: the center
 * applies its own rules to keys and values, and says which one it refuses.
 */
export async function readMetadata(file: string | undefined, pairs: readonly string[]): Promise<Record<string, unknown> | undefined> {
  let metadata: Record<string, unknown> | undefined;
  if (file !== undefined) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw usageError(`cannot read --metadata ${file}: ${describeFileError(err)}`);
    }
    let value: unknown;
    try {
      value = JSON.parse(text.replace(/^\uFEFF/, '')); // a BOM, as some Windows editors write
    } catch (err) {
      throw usageError(`--metadata ${file} is not JSON: ${(err as Error).message}`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw usageError(`--metadata ${file} must hold one JSON object, such as {"全宗号":"J012","保管期限":"永久"}`);
    }
    metadata = value as Record<string, unknown>;
  }
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw usageError(`--meta ${pair}: give KEY=VALUE, such as --meta 档号=J012-WS·2024-Y-0001`);
    metadata = { ...metadata, [pair.slice(0, at)]: pair.slice(at + 1) };
  }
  return metadata;
}
