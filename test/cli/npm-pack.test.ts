import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// The command outside the repository: `npm pack` makes a package that npm installs where there is
// only Node (no compiler: the server's dependencies, the native SQLite driver among them, are
// optional and left out here), and whose archive-seal registers with a center and verifies its
// certificate. Offline: the package's own dependencies are packed from this node_modules.
// The package is packed from dist as the build left it (--ignore-scripts: its prepack build
// would rewrite dist under the other tests running now).
const ROOT = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);
const dir = makeTempDir();
const app = join(dir.path, 'app');
const bin = join(app, 'node_modules', '.bin', 'archive-seal');
let server: ServerProcess | undefined;
let packed: { filename: string; files: { path: string }[] };

// npm as a user runs it: not with the settings of an `npm test` this test may run under.
const npmEnv = () => {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^npm_/i.test(k)) env[k] = v;
  return { ...env, npm_config_offline: 'true', npm_config_update_notifier: 'false', npm_config_audit: 'false', npm_config_fund: 'false' };
};

/** The package and every package it depends on (not optionally), by name, from this node_modules. */
function dependencyClosure(names: readonly string[], seen = new Map<string, string>()): Map<string, string> {
  for (const name of names) {
    if (seen.has(name)) continue;
    const manifest = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8'));
    seen.set(name, join(ROOT, 'node_modules', name));
    dependencyClosure(Object.keys(manifest.dependencies ?? {}), seen);
  }
  return seen;
}

function runInstalled(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd: app, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

beforeAll(async () => {
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir.path], { cwd: ROOT, env: npmEnv() });
  packed = JSON.parse(stdout)[0];
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const deps = join(dir.path, 'deps');
  mkdirSync(deps);
  const dependencies: Record<string, string> = { 'archive-seal': `file:../${packed.filename}` };
  for (const [name, path] of dependencyClosure(Object.keys(manifest.dependencies))) {
    const { stdout: out } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', deps, path], { env: npmEnv() });
    dependencies[name] = `file:../deps/${JSON.parse(out)[0].filename}`;
  }
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'records-office', private: true, dependencies }, null, 2));
  await run('npm', ['install', '--omit=optional', '--no-audit', '--no-fund'], { cwd: app, env: npmEnv() });
}, 240_000);
afterAll(async () => {
  await server?.stop();
  dir.remove();
});

describe('the packed package', () => {
  it('holds the built command, the development roots and the contract, not the sources or tests', () => {
    const paths = packed.files.map((f) => f.path);
    for (const needed of ['bin/archive-seal.js', 'dist/cli/main.js', 'dist/core/verify-certificate.js', 'dist/web/verify.html', 'certs/dev/root-ca.pem', 'contracts/AnchorRegistry.json', 'README.md', 'package.json']) {
      expect(paths).toContain(needed);
    }
    expect(paths.filter((p) => /^(src|test|scripts|data|node_modules|\.ci)\//.test(p) || p.endsWith('.map'))).toEqual([]);
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.prepack).toBe('npm run build');
  });

  it('installs without the server-only dependencies, and the client commands run', async () => {
    expect(existsSync(join(app, 'node_modules', 'better-sqlite3'))).toBe(false);
    const help = await runInstalled(['verify', '--help']);
    expect(help.stderr).toBe('');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^archive-seal verify FILE CERT/);
    const serve = await runInstalled(['serve']);
    expect(serve.code).toBe(1);
    expect(serve.stderr).toMatch(/^archive-seal serve: this installation lacks what the command needs \(.*\): install with the optional dependencies/);
  });

  it('registers a file with a center, finds it, and verifies its certificate', { timeout: 180_000 }, async () => {
    server = await startServerProcess(join(dir.path, 'data'), { ARCHIVE_SEAL_CHAINS: 'local', ARCHIVE_SEAL_LOCAL_CHAIN_PORT: '0' });
    const env = { ARCHIVE_SEAL_SERVER: server.url, ARCHIVE_SEAL_TOKEN: server.adminToken };
    const file = join(app, '移交清单(2024).pdf');
    writeFileSync(file, 'a record registered by the packed command');

    const registered = await runInstalled(['register', file, '--category', 'agency.documents', '--meta', '档号=J012-WS·2024-Y-0001'], env);
    expect(registered.stderr).toBe('');
    expect(registered.code).toBe(0);
    const id = registered.stdout.split('\t')[0]!;
    const found = await runInstalled(['find', file], env);
    expect(found.stdout.split('\t')[0]).toBe(id);
    expect((await runInstalled(['seal'], env)).code).toBe(0);

    const certFile = join(app, 'certificate.json');
    for (;;) {
      const fetched = await runInstalled(['certificate', id, '--out', certFile], env);
      if (fetched.code === 0) break;
      expect(fetched.stderr).toContain('NOT_YET_ANCHORED');
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const { body } = await api(server.url, undefined, 'GET', '/v1/chains');
    const verified = await runInstalled(['verify', file, certFile, '--trust', join(ROOT, 'certs', 'dev', 'root-ca.pem'), '--rpc', body.chains[0].rpcUrl, '--allow-development']);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/^AUTHENTIC: registration \d+ of /m);
  });
});
