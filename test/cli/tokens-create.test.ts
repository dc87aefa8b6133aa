import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, runCli, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// `tokens create` writes into a center's own database, and only an existing one: a token made in
// a new, empty database (a mistyped data directory) would be one no running center accepts.
const dir = makeTempDir();
const dataDir = join(dir.path, 'data');
let server: ServerProcess;

beforeAll(async () => {
  server = await startServerProcess(dataDir);
});
afterAll(async () => {
  await server?.stop();
  dir.remove();
});

describe('tokens create', () => {
  const mistyped = join(dir.path, 'dta');
  const noCenter = (where: string) =>
    `archive-seal tokens: there is no center database at ${join(where, 'archive-seal.sqlite')}: start the center once with \`archive-seal serve\`, or give its data directory with --data-dir or ARCHIVE_SEAL_DATA_DIR\n`;

  it('fails with exit 1 where there is no center database, and creates nothing there', async () => {
    const [fromEnv, fromFlag] = await Promise.all([
      runCli(['tokens', 'create', '--role', 'depositor', '--name', '衢州市民政局'], { ARCHIVE_SEAL_DATA_DIR: mistyped }),
      runCli(['tokens', 'create', '--role', 'depositor', '--name', '衢州市民政局', '--data-dir', mistyped]),
    ]);
    for (const run of [fromEnv, fromFlag]) {
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toBe(noCenter(mistyped));
    }
    expect(existsSync(mistyped)).toBe(false);
  });

  it('still checks its flags first: a bad role is bad usage (exit 2)', async () => {
    const run = await runCli(['tokens', 'create', '--role', 'king', '--name', 'x', '--data-dir', mistyped]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('archive-seal tokens: --role must be one of admin, registrar, depositor\n');
  });

  it("writes into a running center's data directory a token that center accepts", async () => {
    const made = await runCli(['tokens', 'create', '--role', 'depositor', '--name', '衢州市档案馆'], { ARCHIVE_SEAL_DATA_DIR: dataDir });
    expect(made.code).toBe(0);
    const token = made.stdout.trim();
    expect(token).toMatch(/^as_[A-Za-z0-9_-]{43}$/);
    const registered = await api(server.url, token, 'POST', '/v1/registrations', { sha256: 'ab'.repeat(32), category: 'voluntary.individual' });
    expect(registered.status).toBe(201);
    expect(registered.body.record.registrant.name).toBe('衢州市档案馆');

    const clash = await runCli(['tokens', 'create', '--role', 'admin', '--name', '衢州市档案馆', '--data-dir', dataDir]);
    expect(clash.code).toBe(1);
    expect(clash.stdout).toBe('');
  });
});
