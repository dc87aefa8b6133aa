import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, runCli, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// File names as archives have them: half-width brackets (迁移登记册(2024).xlsx), copies (x(1).txt),
// apostrophes and stars, spaces, quotes, per cent signs, backslashes, characters outside the BMP.
// Each is uploaded by `archive-seal register` and recorded under exactly its own name.
const NAMES = [
  '迁移登记册(2024).xlsx',
  'x(1).txt',
  "it's a *draft*.txt",
  'with  two spaces .pdf',
  'say "yes".txt',
  '100% done.txt',
  '%41%42 not encoded.txt',
  'back\\slash.txt',
  'semi;colon=equals,comma.txt',
  '𠮷野家 (CJK Ext B).txt',
  '#hash&amp+plus~tilde!bang.txt',
];

const dir = makeTempDir();
const transfer = join(dir.path, 'transfer');
let server: ServerProcess;
let env: Record<string, string>;

beforeAll(async () => {
  mkdirSync(transfer);
  NAMES.forEach((name, i) => writeFileSync(join(transfer, name), `record ${i}: ${name}\n`));
  server = await startServerProcess(join(dir.path, 'data'));
  env = { ARCHIVE_SEAL_SERVER: server.url, ARCHIVE_SEAL_TOKEN: server.adminToken };
});
afterAll(async () => {
  await server?.stop();
  dir.remove();
});

describe('register uploads files whatever characters their names hold', () => {
  it('registers every file and records its exact name', async () => {
    const run = await runCli(['register', transfer, '--category', 'voluntary.individual'], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(NAMES.length);
    const recorded = new Map<string, string>();
    for (const line of lines) {
      const [id, , , path] = line.split('\t');
      const { status, body } = await api(server.url, server.adminToken, 'GET', `/v1/registrations/${id}`);
      expect(status).toBe(200);
      recorded.set(path!.slice(transfer.length + 1), body.record.fileName);
    }
    for (const name of NAMES) expect(recorded.get(name)).toBe(name);
  });
});
