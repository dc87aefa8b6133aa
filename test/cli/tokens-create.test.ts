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

    // The same name again is a new account (names are not unique), which cannot read the first's records.
    const twin = await runCli(['tokens', 'create', '--role', 'depositor', '--name', '衢州市档案馆', '--data-dir', dataDir]);
    expect(twin.code).toBe(0);
    const twinToken = twin.stdout.trim();
    expect(twin.stderr).toMatch(/^new account (\d+): 衢州市档案馆 \(depositor\);/);
    expect((await api(server.url, twinToken, 'GET', `/v1/registrations/${registered.body.id}`)).status).toBe(404);

    // An existing account is named by its id.
    const accountId = /^new account (\d+)/.exec(made.stderr)![1]!;
    const another = await runCli(['tokens', 'create', '--account', accountId, '--data-dir', dataDir]);
    expect([another.code, another.stderr]).toEqual([0, expect.stringMatching(new RegExp(`^another token for account ${accountId}: 衢州市档案馆 \\(depositor\\);`))]);
    expect((await api(server.url, another.stdout.trim(), 'GET', `/v1/registrations/${registered.body.id}`)).status).toBe(200);
    expect((await api(server.url, token, 'GET', `/v1/registrations/${registered.body.id}`)).status).toBe(200);

    const mixed = await runCli(['tokens', 'create', '--account', accountId, '--role', 'admin', '--data-dir', dataDir]);
    expect([mixed.code, mixed.stdout]).toEqual([2, '']);
    const missing = await runCli(['tokens', 'create', '--account', '999999', '--data-dir', dataDir]);
    expect([missing.code, missing.stdout, missing.stderr]).toEqual([1, '', 'archive-seal tokens: there is no account 999999\n']);
    const spoofed = await runCli(['tokens', 'create', '--role', 'depositor', '--name', 'report\u202efdp.exe', '--data-dir', dataDir]);
    expect([spoofed.code, spoofed.stdout]).toEqual([2, '']);
    expect(spoofed.stderr).toMatch(/^archive-seal tokens: --name contains U\+202E at position 7, a bidirectional control character/);
  });
});
