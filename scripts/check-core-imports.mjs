// Fails when anything in src/core imports outside it: the core is shared by the server, the CLI
// and the browser verifier, so it may use only browser-safe packages and its own files.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const CORE = new URL('../src/core/', import.meta.url).pathname;
const ALLOWED_PACKAGES = ['@noble/hashes', 'hash-wasm', 'pkijs', 'asn1js'];
const problems = [];

for (const file of readdirSync(CORE, { recursive: true })) {
  if (!String(file).endsWith('.ts')) continue;
  const text = readFileSync(join(CORE, String(file)), 'utf8');
  for (const match of text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    const spec = match[1] ?? match[2];
    if (spec.startsWith('./')) continue;
    if (ALLOWED_PACKAGES.some((p) => spec === p || spec.startsWith(`${p}/`))) continue;
    problems.push(`src/core/${file}: imports "${spec}"`);
  }
  if (/\bprocess\.env\b|\brequire\(/.test(text)) problems.push(`src/core/${file}: uses process.env or require()`);
}

if (problems.length > 0) {
  console.error('src/core must stay pure and browser-safe:\n  ' + problems.join('\n  '));
  process.exit(1);
}
console.log('src/core imports only browser-safe packages and itself');
