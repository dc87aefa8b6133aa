#!/usr/bin/env node
// Runs a command with a throw-away PostgreSQL cluster: initdb in a private temporary directory,
// the server on a free port of 127.0.0.1 (and its socket in that directory), the command with
// ARCHIVE_SEAL_TEST_POSTGRES_URL set to the cluster's maintenance database; then the server is
// stopped and the directory removed, whatever the command's outcome (also on Ctrl-C).
// Given ARCHIVE_SEAL_TEST_POSTGRES_URL already, it runs the command against that server instead.
// Without PostgreSQL's programs (Debian: apt-get install postgresql) it says so and fails.
//
//   node scripts/with-postgres.mjs COMMAND [ARGS...]
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: node scripts/with-postgres.mjs COMMAND [ARGS...]');
  process.exit(2);
}

if (process.env.ARCHIVE_SEAL_TEST_POSTGRES_URL) process.exit(run(process.env));

function binDir() {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v) && Number(v) >= 15).sort((a, b) => Number(b) - Number(a)) : [];
  if (versions.length === 0) {
    console.error('with-postgres: PostgreSQL 15 or later is not installed (Debian: apt-get install postgresql); .ci/run installs it');
    process.exit(1);
  }
  return join(root, versions[0], 'bin');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function run(env) {
  const child = spawnSync(command, args, { stdio: 'inherit', env });
  if (child.error) {
    console.error(`with-postgres: ${child.error.message}`);
    return 1;
  }
  return child.status ?? 1;
}

const bin = binDir();
const dir = mkdtempSync(join(tmpdir(), 'archive-seal-pg-'));
const data = join(dir, 'data');
const port = await freePort();
// PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` user.
const asRoot = process.getuid?.() === 0;
if (asRoot) {
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  chownSync(dir, uid, gid);
  // The parent may be a 0700 directory of root's: the cluster lives under its own private one.
  chmodSync(dir, 0o700);
}
const as = (program, programArgs) =>
  asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, program), ...programArgs]] : [join(bin, program), programArgs];

let started = false;
const stop = () => {
  if (started) {
    const [p, a] = as('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    spawnSync(p, a, { stdio: 'ignore' });
    started = false;
  }
  rmSync(dir, { recursive: true, force: true });
};
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    stop();
    process.exit(130);
  });
}

let status = 1;
try {
  const [initProgram, initArgs] = as('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']);
  const init = spawnSync(initProgram, initArgs, { encoding: 'utf8', cwd: dir });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout || init.error?.message}`);
  // Durable commits as in production (fsync on); a small cluster for tests.
  const options = `-k ${dir} -p ${port} -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=128MB`;
  const [ctlProgram, ctlArgs] = as('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start']);
  const ctl = spawnSync(ctlProgram, ctlArgs, { encoding: 'utf8', cwd: dir });
  if (ctl.status !== 0) throw new Error(`pg_ctl start failed: ${ctl.stderr || ctl.stdout}`);
  started = true;
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  console.error(`with-postgres: PostgreSQL ${bin.split('/').at(-2)} on ${url} (throw-away, in ${dir})`);
  status = run({ ...process.env, ARCHIVE_SEAL_TEST_POSTGRES_URL: url });
} catch (err) {
  console.error(`with-postgres: ${err.message}`);
} finally {
  stop();
}
process.exit(status);
