import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, runCli, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// `archive-seal units` and `archive-seal tokens list|revoke` against a running center process.
const dir = makeTempDir();
let server: ServerProcess;
let env: Record<string, string>;

beforeAll(async () => {
  server = await startServerProcess(join(dir.path, 'data'));
  env = { ARCHIVE_SEAL_SERVER: server.url, ARCHIVE_SEAL_TOKEN: server.adminToken };
});
afterAll(async () => {
  await server?.stop();
  dir.remove();
});

describe('archive-seal units', () => {
  let id: number;

  it('add: makes a unit and prints it (exit 0)', async () => {
    const run = await runCli(['units', 'add', '--name', '衢州市民政局', '--credit-code', '91330100799655058B', '--kind', 'agency', '--region', '柯城区', '--in-transfer-scope', '--contact', '0570-3012345', '--json'], env);
    expect(run.code, run.stderr).toBe(0);
    const unit = JSON.parse(run.stdout);
    expect(unit).toMatchObject({ name: '衢州市民政局', creditCode: '91330100799655058B', kind: 'agency', region: '柯城区', inTransferScope: true, digitalArchiveRoom: false });
    id = unit.id;
  });

  it('add: the same credit code again is DUPLICATE_UNIT (exit 1, one line)', async () => {
    const run = await runCli(['units', 'add', '--name', '另一个局', '--credit-code', '91330100799655058B', '--kind', 'agency', '--region', '柯城区'], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^archive-seal units: DUPLICATE_UNIT: .+\n$/);
  });

  it('add: a wrong check character is refused before anything is sent (exit 2, INVALID_CREDIT_CODE)', async () => {
    const run = await runCli(['units', 'add', '--name', '衢州市某局', '--credit-code', '91330100799655058C', '--kind', 'agency', '--region', '柯城区'], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/check character.*INVALID_CREDIT_CODE/);
  });

  it('add: a region not the center\'s is UNKNOWN_REGION (exit 1)', async () => {
    const run = await runCli(['units', 'add', '--name', '杭州市某局', '--credit-code', '91110000802100433B', '--kind', 'agency', '--region', '西湖区'], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/UNKNOWN_REGION: .*柯城区/);
  });

  it('edit, suspend and list', async () => {
    const edit = await runCli(['units', 'edit', String(id), '--archive-room', 'true', '--region', '衢江区'], env);
    expect(edit.code, edit.stderr).toBe(0);
    expect(edit.stdout).toMatch(new RegExp(`^unit ${id} changed: ${id}\\t衢州市民政局\\t91330100799655058B\\tagency\\t衢江区\\tin-transfer-scope,archive-room\\n$`));
    const suspend = await runCli(['units', 'suspend', String(id)], env);
    expect(suspend.code).toBe(0);
    expect(suspend.stdout).toMatch(/SUSPENDED/);
    const list = await runCli(['units', 'list'], env);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(`${id}\t衢州市民政局\t91330100799655058B\tagency\t衢江区\tin-transfer-scope,archive-room,SUSPENDED\n`);
    const bad = await runCli(['units', 'edit', String(id), '--archive-room', 'maybe'], env);
    expect(bad.code).toBe(2);
  });
});

describe('archive-seal tokens list|revoke', () => {
  it('lists tokens and revokes one: the revoked token is refused at once', async () => {
    const made = await runCli(['tokens', 'create', '--role', 'depositor', '--name', '衢州市档案馆', '--data-dir', join(dir.path, 'data')]);
    expect(made.code).toBe(0);
    const token = made.stdout.trim();
    expect((await api(server.url, token, 'GET', '/v1/registrations')).status).toBe(200);
    const mine = await runCli(['tokens', 'list', '--json'], { ...env, ARCHIVE_SEAL_TOKEN: token });
    expect(mine.code).toBe(0);
    const [entry] = JSON.parse(mine.stdout).tokens;
    expect(JSON.parse(mine.stdout).tokens).toHaveLength(1);
    expect(mine.stdout).not.toContain(token);
    const all = await runCli(['tokens', 'list'], env);
    expect(all.stdout.trim().split('\n').length).toBeGreaterThanOrEqual(2);
    const revoke = await runCli(['tokens', 'revoke', String(entry.id)], env);
    expect(revoke.code, revoke.stderr).toBe(0);
    expect(revoke.stdout).toMatch(new RegExp(`^token ${entry.id} of account-\\d+ revoked at `));
    expect((await api(server.url, token, 'GET', '/v1/registrations')).status).toBe(401);
    const again = await runCli(['tokens', 'revoke', String(entry.id)], { ...env, ARCHIVE_SEAL_TOKEN: token });
    expect(again.code).toBe(1);
    expect((await runCli(['tokens', 'revoke', 'x'], env)).code).toBe(2);
  });
});
