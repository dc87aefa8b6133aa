import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// Every code the verifier can put in a report is explained in the README, so a court's reader
// can look up whatever code a report shows. A code added in src/core (or by the center's own
// registry check) without a line in the README fails here.
const ROOT = join(import.meta.dirname, '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const NOT_CODES = new Set(['NOT_AUTHENTIC', 'CANNOT_BE_DETERMINED']);

function codesIn(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'/g)].map((m) => m[1]!).filter((code) => !NOT_CODES.has(code));
}

describe("the README's list of verification codes", () => {
  const sources = [
    ...readdirSync(join(ROOT, 'src', 'core'))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => join(ROOT, 'src', 'core', f)),
    join(ROOT, 'src', 'registry', 'registry-check.ts'),
  ];
  const codes = [...new Set(sources.flatMap(codesIn))].sort();

  it('finds the codes (the scan itself works)', () => {
    expect(codes).toContain('FILE_DIGEST_MISMATCH');
    expect(codes).toContain('REGISTRY_MISMATCH');
    expect(codes.length).toBeGreaterThan(40);
  });

  it('names every code emitted in src/core and by the registry check', () => {
    const missing = codes.filter((code) => !new RegExp('`' + code + '`').test(README));
    expect(missing).toEqual([]);
  });
});
