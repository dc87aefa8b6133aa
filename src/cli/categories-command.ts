import { parseArgs } from 'node:util';
import { CATEGORIES, CATEGORY_GROUPS } from '../core/categories.js';
import { EXIT_OK, usageError } from './cli-error.js';

export const CATEGORIES_USAGE = `archive-seal categories [--json]
  The category codes \`register --category\` takes, by group: CODE<TAB>中文<TAB>English.
  The same taxonomy as the center's GET /v1/categories; needs no center.`;

/** `archive-seal categories`: the taxonomy, printed from the code every center uses. */
export async function categoriesCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean', default: false } } });
  if (positionals.length > 0) throw usageError('categories takes no arguments');
  if (values.json) {
    process.stdout.write(JSON.stringify({ groups: CATEGORY_GROUPS, categories: CATEGORIES }, null, 2) + '\n');
    return EXIT_OK;
  }
  const lines: string[] = [];
  for (const [group, names] of Object.entries(CATEGORY_GROUPS)) {
    lines.push(`${names.zh} / ${names.en}`);
    for (const c of CATEGORIES.filter((c) => c.group === group)) lines.push(`  ${c.code}\t${c.zh}\t${c.en}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
  return EXIT_OK;
}
