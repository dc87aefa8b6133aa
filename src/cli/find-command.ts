import { parseArgs } from 'node:util';
import { isHexOfLength } from '../core/hex.js';
import type { RegistrationView } from '../registry/registration-view.js';
import { describeFileError, EXIT_FAILURE, EXIT_OK, usageError } from './cli-error.js';
import { CONNECTION_OPTIONS, connect } from './connection.js';
import { digestFile } from './file-digests.js';

export const FIND_USAGE = `archive-seal find FILE... | --sha256 HEX [--json]
  The registrations of a file's content (by its SHA-256, computed here; the file is not sent),
  newest first: ID<TAB>STATUS<TAB>PERIOD<TAB>TITLE<TAB>FILE NAME<TAB>FILE GIVEN per line, so
  \`archive-seal find F | cut -f1\` gives the ids. A depositor finds only its own. Exit 0 when
  every file has a registration, 1 when one has none (named on stderr).
  --server URL, --token T (or ARCHIVE_SEAL_SERVER, ARCHIVE_SEAL_TOKEN)`;

/** `archive-seal find FILE` / `--sha256 HEX`: which registrations hold this content. */
export async function findCommand(args: string[], env: Readonly<Record<string, string | undefined>>): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...CONNECTION_OPTIONS, sha256: { type: 'string', multiple: true, default: [] }, json: { type: 'boolean', default: false } },
  });
  if (positionals.length === 0 && values.sha256.length === 0) throw usageError('name a file, or give --sha256 HEX: archive-seal find FILE');
  for (const hex of values.sha256) if (!isHexOfLength(hex, 32)) throw usageError(`--sha256 ${hex} is not 64 hex digits (a SHA-256 digest)`);
  const client = connect(values, env, { needsToken: true });
  const wanted: { given: string; sha256: string }[] = values.sha256.map((hex) => ({ given: `sha256:${hex.toLowerCase()}`, sha256: hex.toLowerCase() }));
  for (const path of positionals) {
    try {
      wanted.push({ given: path, sha256: (await digestFile(path)).sha256 });
    } catch (err) {
      throw usageError(`cannot read ${path}: ${describeFileError(err)}`);
    }
  }
  const found: { given: string; sha256: string; registrations: RegistrationView[] }[] = [];
  for (const { given, sha256 } of wanted) {
    const { registrations } = await client.json<{ registrations: RegistrationView[] }>('GET', `/v1/registrations?sha256=${sha256}&limit=1000`);
    found.push({ given, sha256, registrations });
  }
  if (values.json) {
    process.stdout.write(JSON.stringify(found.map((f) => ({ given: f.given, sha256: f.sha256, registrations: f.registrations.map(summary) })), null, 2) + '\n');
  }
  for (const { given, sha256, registrations } of found) {
    if (registrations.length === 0) process.stderr.write(`not found\t${given}\tno registration of sha256:${sha256} that this token may see\n`);
    else if (!values.json) {
      for (const r of registrations) {
        const s = summary(r);
        process.stdout.write(`${s.id}\t${s.status}\tperiod ${s.periodId}\t${s.title ?? '-'}\t${s.fileName ?? '-'}\t${given}\n`);
      }
    }
  }
  return found.some((f) => f.registrations.length === 0) ? EXIT_FAILURE : EXIT_OK;
}

function summary(r: RegistrationView) {
  return {
    id: r.id,
    status: r.status,
    periodId: r.periodId,
    registeredAt: r.registeredAt,
    category: r.record.category,
    ...(r.record.title !== undefined && { title: r.record.title }),
    ...(r.record.fileName !== undefined && { fileName: r.record.fileName }),
  };
}
