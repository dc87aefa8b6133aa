import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// `archive-seal register DIR` against a real center: symbolic links inside the directory are
// records of nothing; they are reported and left, never followed (a link to a secret outside the
// tree, a link back up the tree, a dangling link).
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

/** The paths the CLI printed as registered (`ID\tSTATUS\tsha256:…\tPATH` on stdout). */
const registeredPaths = (stdout: string) => stdout.trim().split('\n').filter(Boolean).map((line) => line.split('\t')[3]);

describe('register walks a directory without following symbolic links', () => {
  it('registers the regular files, and reports each link once as skipped', async () => {
    const outside = join(dir.path, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
    const transfer = join(dir.path, 'transfer');
    mkdirSync(join(transfer, 'sub'), { recursive: true });
    writeFileSync(join(transfer, 'a.pdf'), 'first record');
    writeFileSync(join(transfer, 'sub', 'b.pdf'), 'second record');
    const links = [
      [join(transfer, 'passwd'), join(outside, 'passwd')], // a file outside the tree
      [join(transfer, 'sub', 'up'), '..'], // back up the tree: followed, it never ends
      [join(transfer, 'dangling.pdf'), join(dir.path, 'gone.pdf')],
      [join(transfer, 'elsewhere'), outside], // a directory outside the tree
    ] as const;
    for (const [link, target] of links) symlinkSync(target, link);

    const run = await runCli(['register', transfer, ...CATEGORY], env);

    expect(run.code).toBe(0);
    expect(registeredPaths(run.stdout)).toEqual([join(transfer, 'a.pdf'), join(transfer, 'sub', 'b.pdf')]);
    expect(run.stderr.trim().split('\n').sort()).toEqual(
      links.map(([link]) => `skipped\t${link}\tsymbolic link, not followed`).sort(),
    );
  });

  it('follows a symbolic link named on the command line, the user having chosen it', async () => {
    const target = join(dir.path, 'named-target.pdf');
    writeFileSync(target, 'a record reached through a link the user named');
    const link = join(dir.path, 'named-link.pdf');
    symlinkSync(target, link);

    const run = await runCli(['register', link, ...CATEGORY], env);

    expect(run.code).toBe(0);
    expect(registeredPaths(run.stdout)).toEqual([link]);
    expect(run.stderr).toBe('');
  });

  it('refuses a named path that does not exist, or a named dangling link, as bad usage with the reason', async () => {
    const missing = join(dir.path, 'no-such-dir');
    const absent = await runCli(['register', missing, ...CATEGORY], env);
    expect(absent.code).toBe(2);
    expect(absent.stderr).toBe(`archive-seal register: cannot read ${missing}: no such file or directory (ENOENT)\n`);
    expect(absent.stdout).toBe('');

    const dangling = join(dir.path, 'dangling-named.pdf');
    symlinkSync(join(dir.path, 'never-there.pdf'), dangling);
    const named = await runCli(['register', dangling, ...CATEGORY], env);
    expect(named.code).toBe(2);
    expect(named.stderr).toBe(`archive-seal register: cannot read ${dangling}: a symbolic link to a file that does not exist\n`);
    expect(named.stdout).toBe('');
  });
});
