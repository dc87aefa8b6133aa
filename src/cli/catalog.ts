import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { describeFileError, usageError } from './cli-error.js';
import type { FoundFile } from './file-walk.js';

/** What a catalog row gives one file: its title and metadata elements. */
export interface CatalogEntry {
  title?: string;
  metadata: Record<string, string>;
}

const FILE_COLUMNS = ['文件名', 'fileName'];
const TITLE_COLUMNS = ['题名', 'title'];

/**
 * A transfer catalog (移交目录), as a records office keeps it in a spreadsheet and saves it as
 * "CSV UTF-8": one row per file, a column 文件名 (or fileName) naming the file, 题名 (or title)
 * its title, every other column a metadata element (档号, 全宗号, 保管期限 …; empty cells
 * left out). Each file found is matched by its name; a file without a row, a row without a
 * file, a name given twice, or two files of one name are usage errors, before anything is sent.
 */
export async function readCatalog(path: string, files: readonly FoundFile[]): Promise<Map<FoundFile, CatalogEntry>> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw usageError(`cannot read --catalog ${path}: ${describeFileError(err)}`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw usageError(`--catalog ${path} is not UTF-8: save it as "CSV UTF-8 (逗号分隔)" (Excel's plain "CSV" on Chinese Windows is GBK)`);
  }
  const rows = parseCsv(text.replace(/^\uFEFF/, ''), path);
  const [header, ...records] = rows;
  const fileColumn = header?.findIndex((name) => FILE_COLUMNS.includes(name.trim())) ?? -1;
  if (!header || fileColumn === -1) throw usageError(`--catalog ${path}: the first row must name the columns, one of them 文件名 (or fileName)`);
  const titleColumn = header.findIndex((name) => TITLE_COLUMNS.includes(name.trim()));
  const byName = new Map<string, CatalogEntry>();
  records.forEach((record, i) => {
    const name = record[fileColumn]?.trim() ?? '';
    if (name === '') throw usageError(`--catalog ${path}, row ${i + 2}: no file name in column ${header[fileColumn]}`);
    if (byName.has(name)) throw usageError(`--catalog ${path}: ${name} is named twice`);
    if (record.length > header.length) throw usageError(`--catalog ${path}, row ${i + 2}: more cells than columns`);
    const metadata: Record<string, string> = {};
    header.forEach((column, j) => {
      const value = record[j] ?? '';
      if (j !== fileColumn && j !== titleColumn && value !== '') metadata[column.trim()] = value;
    });
    const title = titleColumn === -1 ? '' : (record[titleColumn] ?? '');
    byName.set(name, { ...(title !== '' && { title }), metadata });
  });

  const entries = new Map<FoundFile, CatalogEntry>();
  const seen = new Map<string, string>();
  const missing: string[] = [];
  for (const file of files) {
    const name = basename(file.path);
    const other = seen.get(name);
    if (other !== undefined) throw usageError(`--catalog: ${other} and ${file.path} have the same name; register them separately`);
    seen.set(name, file.path);
    const entry = byName.get(name);
    if (entry) entries.set(file, entry);
    else missing.push(file.path);
  }
  if (missing.length > 0) throw usageError(`--catalog ${path} has no row for ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`);
  const unused = [...byName.keys()].filter((name) => !seen.has(name));
  if (unused.length > 0) throw usageError(`--catalog ${path} names files not found: ${unused.slice(0, 5).join(', ')}${unused.length > 5 ? ` and ${unused.length - 5} more` : ''}`);
  return entries;
}

/** RFC 4180 CSV: quoted fields (with "" for a quote, and line breaks inside), CRLF or LF. */
export function parseCsv(text: string, what = 'the CSV'): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let wasQuoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch !== '"') field += ch;
      else if (text[i + 1] === '"') {
        field += '"';
        i++;
      } else quoted = false;
    } else if (ch === '"' && field === '' && !wasQuoted) {
      quoted = wasQuoted = true;
    } else if (ch === ',') {
      row.push(field);
      field = '';
      wasQuoted = false;
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      if (!(row.length === 1 && row[0] === '' && !wasQuoted)) rows.push(row); // blank lines
      row = [];
      field = '';
      wasQuoted = false;
    } else {
      field += ch;
    }
  }
  if (quoted) throw usageError(`${what}: a quoted cell is not closed`);
  if (field !== '' || row.length > 0 || wasQuoted) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
