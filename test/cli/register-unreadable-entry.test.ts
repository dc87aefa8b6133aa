import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// An entry the user may not read, inside a directory being registered: the rest is registered,
// the entry is named with its real reason, and the run fails (exit 1) so nothing is dropped silently.
// Permissions do not bind root: as root, the CLI runs as root without the capabilities that
// bypass them (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH; setpriv), not as another user: another
// user may not enter the directory the clone sits in (under /root, or any 0700 directory).
const AS_UNPRIVILEGED = process.getuid?.() === 0 ? { wrapper: ['setpriv', '--inh-caps=-all', '--bounding-set=-dac_override,-dac_read_search', '--'] } : {};
const dir = makeTempDir();
let server: ServerProcess;
let env: Record<string, string>;

beforeAll(async () => {
  server = await startServerProcess(join(dir.path, 'data'));
  env = { ARCHIVE_SEAL_SERVER: server.url, ARCHIVE_SEAL_TOKEN: server.adminToken };
});
afterAll(async () => {
  await server?.stop();
  chmodSync(join(dir.path, 'transfer', 'locked'), 0o755);
  dir.remove();
});

const runUnprivilegedCli = (args: string[]) => runCli(args, env, AS_UNPRIVILEGED);

describe('register with an unreadable entry inside the directory', () => {
  const transfer = join(dir.path, 'transfer');
  const secret = join(transfer, 'secret.pdf');
  const locked = join(transfer, 'locked');

  beforeAll(() => {
    mkdirSync(locked, { recursive: true });
    writeFileSync(join(transfer, 'a.pdf'), 'a record anyone may read', { mode: 0o644 });
    writeFileSync(join(locked, 'inside.pdf'), 'behind a locked door', { mode: 0o644 });
    writeFileSync(secret, 'not for this user', { mode: 0o000 });
    chmodSync(transfer, 0o755);
    chmodSync(locked, 0o000);
  });

  for (const mode of [[], ['--hash-only']]) {
    it(`registers the rest, names what it could not read with the real reason, and exits 1 ${mode.join(' ')}`, async () => {
      const run = await runUnprivilegedCli(['register', transfer, '--category', 'voluntary.individual', ...mode]);

      expect(run.code).toBe(1);
      const registered = run.stdout.trim().split('\n').map((line) => line.split('\t')[3]);
      expect(registered).toEqual([join(transfer, 'a.pdf')]);
      expect(run.stderr.trim().split('\n').sort()).toEqual([
        `failed\t${locked}\tcannot read: permission denied (EACCES)`,
        `failed\t${secret}\tcannot read: permission denied (EACCES)`,
      ]);
    });
  }

  it('refuses an unreadable path named on the command line as bad usage', async () => {
    const run = await runUnprivilegedCli(['register', secret, '--category', 'voluntary.individual']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`archive-seal register: cannot read ${secret}: permission denied (EACCES)\n`);
    expect(run.stdout).toBe('');
  });
});
