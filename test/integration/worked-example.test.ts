import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { TEST_ENGINE } from '../helpers/test-database.js';

// The README's worked example, run as a new user pastes it: every line as written but `npm
// start`, which is this test's own center (built code, the embedded chain) in a fresh directory
// set up like the clone (the archive-seal command for npx, certs/). Ports are free ones, passed
// as PORT and ARCHIVE_SEAL_LOCAL_CHAIN_PORT, which the example reads as the center does.
const ROOT = join(import.meta.dirname, '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const block = /<!-- worked-example:begin -->\s*```sh\n([\s\S]*?)```\s*<!-- worked-example:end -->/.exec(README)?.[1];
const START_LINE = /^npm install && npm start &.*$/m;

const dir = makeTempDir();
let server: ServerProcess | undefined;
let ports: { center: number; chain: number };

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

beforeAll(async () => {
  // As in a clone: `npx archive-seal` finds the command in node_modules, certs/dev is here.
  mkdirSync(join(dir.path, 'node_modules', '.bin'), { recursive: true });
  symlinkSync(ROOT, join(dir.path, 'node_modules', 'archive-seal'));
  symlinkSync(join('..', 'archive-seal', 'bin', 'archive-seal.js'), join(dir.path, 'node_modules', '.bin', 'archive-seal'));
  symlinkSync(join(ROOT, 'certs'), join(dir.path, 'certs'));
  ports = { center: await freePort(), chain: await freePort() };
});
afterAll(async () => {
  await server?.stop();
  dir.remove();
});

/** Runs bash on `script` in the example's directory; resolves with its exit status and output. */
function bash(script: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const { ARCHIVE_SEAL_SERVER: _s, ARCHIVE_SEAL_TOKEN: _t, ...inherited } = process.env;
    const child = spawn('bash', ['-e', '-c', script], { cwd: dir.path, env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

// The README's example is pasted as written: it runs the center on its embedded defaults (SQLite).
describe.skipIf(TEST_ENGINE === 'postgres')("the README's worked example", () => {
  it('is in the README, with the npm start line the test replaces', () => {
    expect(block).toBeDefined();
    expect(block).toMatch(START_LINE);
  });

  it('runs as written: the file named is found, certified and verified AUTHENTIC (exit 0)', { timeout: 300_000 }, async () => {
    const env = { PORT: String(ports.center), ARCHIVE_SEAL_LOCAL_CHAIN_PORT: String(ports.chain), npm_config_offline: 'true', npm_config_update_notifier: 'false' };
    const [before, after] = block!.split(START_LINE) as [string, string];
    const setup = await bash(before, env);
    expect(setup.code, setup.stderr).toBe(0);
    server = await startServerProcess(join(dir.path, 'data'), { ...env, ARCHIVE_SEAL_CHAINS: 'local', ARCHIVE_SEAL_CONFIRMATIONS: '1' });

    const run = await bash(after, env);
    expect(run.code, `${run.stdout}\n${run.stderr}\n${server.output()}`).toBe(0);
    expect(run.stdout).toMatch(/^AUTHENTIC: registration \d+ of /m);

    const certificate = JSON.parse(readFileSync(join(dir.path, '婚姻登记表.cert.json'), 'utf8'));
    const record = certificate.content.record;
    expect(record.fileName).toBe('婚姻登记表.pdf');
    expect(record.registrant).toMatchObject({ name: '衢州市民政局' });
    expect(record.metadata).toEqual({ 全宗号: 'J012', 保管期限: '永久' });
    expect(record.category).toBe('livelihood.marriage');
  });
});
