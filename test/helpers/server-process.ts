import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { testDatabaseEnvForCli, testDatabaseUrlFor } from './test-database.js';

const ROOT = join(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'bin', 'archive-seal.js');

/** A center started as a real process (`archive-seal serve`, built code) on a random port. */
export interface ServerProcess {
  url: string;
  adminToken: string;
  child: ChildProcess;
  output(): string;
  /** SIGTERM and wait; SIGKILL after 10 s. */
  stop(): Promise<void>;
  /** SIGKILL at once, as a crash or power cut would. */
  kill(): Promise<void>;
}

/** Starts `archive-seal serve` on 127.0.0.1 port 0 with `dataDir`; resolves once it listens. */
export async function startServerProcess(dataDir: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  const databaseUrl = env.ARCHIVE_SEAL_DATABASE_URL === undefined ? await testDatabaseUrlFor(dataDir) : undefined;
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: {
      ...process.env,
      ARCHIVE_SEAL_DATA_DIR: dataDir,
      PORT: '0',
      HOST: '127.0.0.1',
      ARCHIVE_SEAL_SEAL_SCHEDULE: 'off',
      ARCHIVE_SEAL_CHAINS: 'none',
      ARCHIVE_SEAL_LOCAL_CHAIN_PORT: '0',
      ...(databaseUrl !== undefined && { ARCHIVE_SEAL_DATABASE_URL: databaseUrl }),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    // A server that does not come up in time is stopped before the test fails: it would hold its
    // port and its chain node (a process the test started) past the run.
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      const hard = setTimeout(() => child.kill('SIGKILL'), 10_000);
      void exited.then(() => {
        clearTimeout(hard);
        reject(new Error(`server did not start:\n${output}`));
      });
    }, 30_000);
    const onData = () => {
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!timedOut) reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
  const wait = async (signal: NodeJS.Signals, graceMs: number) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return {
    url,
    adminToken: readFileSync(join(dataDir, 'admin-token.txt'), 'utf8').trim(),
    child,
    output: () => output,
    stop: () => wait('SIGTERM', 10_000),
    kill: () => wait('SIGKILL', 0),
  };
}

/**
 * Runs the CLI to completion (under `as.wrapper`, a command that runs the rest, when given:
 * setpriv, say); resolves with its exit status and output.
 */
export async function runCli(args: string[], env: Record<string, string> = {}, as: { wrapper?: string[] } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const database = await testDatabaseEnvForCli(args, { ...process.env, ...env });
  return new Promise((resolve, reject) => {
    const [command, ...before] = [...(as.wrapper ?? []), process.execPath, CLI, ...args] as [string, ...string[]];
    const child = spawn(command, before, { env: { ...process.env, ...database, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** fetch with a bearer token and JSON body, returning status and parsed body. */
export async function api(
  url: string,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const res = await fetch(url + path, {
    method,
    headers: {
      ...(token && { authorization: `Bearer ${token}` }),
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() };
}
