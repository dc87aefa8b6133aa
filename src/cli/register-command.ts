import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { findCategory } from '../core/categories.js';
import type { RegistrationView } from '../registry/registration-view.js';
import type { ApiClient } from './api-client.js';
import { CliError, describeFileError, EXIT_FAILURE, EXIT_OK, usageError } from './cli-error.js';
import { CONNECTION_OPTIONS, connect } from './connection.js';
import { findFiles, type FoundFile } from './file-walk.js';
import { ProgressBar } from './progress-bar.js';
import { digestFile } from './file-digests.js';

export { digestFile };

export const REGISTER_USAGE = `archive-seal register <file|dir>... --category CODE [--hash-only] [--title T] [--json]
  Registers files (directories recursively) with a running center. Files are uploaded and kept
  in the center's vault; with --hash-only only their SHA-256 and SM3 digests leave this machine.
  Symbolic links inside directories are not followed: each is reported as skipped. Entries that
  cannot be read are reported as failed after the rest is registered (exit 1).
  --server URL, --token T (or ARCHIVE_SEAL_SERVER, ARCHIVE_SEAL_TOKEN)`;

const BATCH = 1000; // hash-only entries per batch request
const PARALLEL_UPLOADS = 3;

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
      'hash-only': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  if (positionals.length === 0) throw usageError('name at least one file or directory to register');
  if (!values.category) throw usageError('--category is required (see GET /v1/categories)');
  if (!findCategory(values.category)) throw usageError(`--category ${values.category} is not in the taxonomy`);
  const client = connect(values, env, { needsToken: true });
  const { files, skipped, unreadable } = await findFiles(positionals);
  for (const entry of skipped) process.stderr.write(`skipped\t${entry.path}\t${entry.reason}\n`);
  if (files.length === 0 && unreadable.length === 0) throw usageError('no files found under the paths given');

  const progress = new ProgressBar(files.length, files.reduce((n, f) => n + f.size, 0));
  const common = { category: values.category, ...(values.title !== undefined && { title: values.title }) };
  const registered = values['hash-only']
    ? await registerHashOnly(client, files, common, progress)
    : await registerUploads(client, files, common, progress);
  progress.finish();
  // What could not be read is named with the failures, and fails the run like them.
  const lines: Line[] = [...registered, ...unreadable.map((entry) => ({ path: entry.path, error: entry.reason }))];

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
  common: Record<string, string>,
  progress: ProgressBar,
): Promise<Line[]> {
  const lines: Line[] = new Array(files.length);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      const file = files[i]!;
      try {
        const { created, body: r } = await client.upload<RegistrationView>('/v1/registrations', file.path, file.size, common);
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
  common: Record<string, string>,
  progress: ProgressBar,
): Promise<Line[]> {
  const lines: Line[] = [];
  for (let start = 0; start < files.length; start += BATCH) {
    const slice: FoundFile[] = [];
    const entries = [];
    for (const file of files.slice(start, start + BATCH)) {
      try {
        const digests = await digestFile(file.path);
        entries.push({ ...common, ...digests, fileName: basename(file.path) });
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

/** SHA-256 and SM3 of a file, read once. */
