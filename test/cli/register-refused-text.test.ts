import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, runCli, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// The CLI applies the center's text rule (src/core/user-text.ts) before it sends anything: a
// file whose name holds a bidi override (report<U+202E>fdp.exe reads as reportexe.pdf) or a C1 control
// is reported as failed with the reason, the others are registered; a bad --title is bad usage.
const dir = makeTempDir();
let server: ServerProcess;
let env: Record<string, string>;
const CATEGORY = ['--category', 'voluntary.individual'];

beforeAll(async () => {
  server = await startServerProcess(join(dir.path, 'data'));
  env = { ARCHIVE_SEAL_SERVER: server.url, ARCHIVE_SEAL_TOKEN: server.adminToken };
});
afterAll(async () => {
  await server?.stop();
  dir.remove();
});

describe('register and the text rule', () => {
  it.each([[[] as string[]], [['--hash-only']]])('fails (exit 1) files whose names the center would refuse and registers the rest %j', async (mode) => {
    const transfer = join(dir.path, `transfer${mode.length}`);
    mkdirSync(transfer);
    writeFileSync(join(transfer, '迁移登记册2024.xlsx'), `good ${mode.length}`);
    writeFileSync(join(transfer, 'report\u202efdp.exe'), `spoofed ${mode.length}`);
    writeFileSync(join(transfer, 'x\u0085y.txt'), `c1 ${mode.length}`);
    const run = await runCli(['register', transfer, ...CATEGORY, ...mode], env);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/\/迁移登记册2024\.xlsx$/m);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(`failed\t${join(transfer, 'report\u202efdp.exe')}\tthe file name contains U+202E at position 7, a bidirectional control character`);
    expect(run.stderr).toContain(`failed\t${join(transfer, 'x\u0085y.txt')}\tthe file name contains U+0085 at position 2, a C1 control character`);
    const listed = await api(server.url, server.adminToken, 'GET', '/v1/registrations');
    expect(listed.body.registrations.map((r: { record: { fileName?: string } }) => r.record.fileName)).not.toContain('report\u202efdp.exe');
  });

  it('refuses a --title the center would refuse as bad usage (exit 2), before reading any file', async () => {
    const run = await runCli(['register', join(dir.path, 'missing.pdf'), ...CATEGORY, '--title', '婚姻登记\u202e表'], env);
    expect([run.code, run.stdout]).toEqual([2, '']);
    expect(run.stderr).toMatch(/^archive-seal register: --title contains U\+202E at position 5, a bidirectional control character/);
  });
});
