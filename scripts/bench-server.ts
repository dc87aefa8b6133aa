import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');

/** The built center, started as its own process for a benchmark to drive. */
export interface BenchServer {
  url: string;
  token: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `archive-seal serve` (dist) on a free port with `dataDir`; `env` adds or overrides settings. */
export async function startBenchServer(dataDir: string, env: Record<string, string> = {}): Promise<BenchServer> {
  // The flags `npm start` gives (see bin/archive-seal.js), then any of BENCH_NODE_OPTIONS.
  const flags = ['--no-memory-reducer', '--heap-growing-percent=100', ...(process.env.BENCH_NODE_OPTIONS ? process.env.BENCH_NODE_OPTIONS.split(' ') : [])];
  const child = spawn(process.execPath, [...flags, join(ROOT, 'bin', 'archive-seal.js'), 'serve'], {
    env: { ...process.env, ARCHIVE_SEAL_DATA_DIR: dataDir, PORT: '0', ARCHIVE_SEAL_SEAL_SCHEDULE: 'off', ARCHIVE_SEAL_LOCAL_CHAIN_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)));
  });
  return {
    url,
    token: readFileSync(join(dataDir, 'admin-token.txt'), 'utf8').trim(),
    child,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
