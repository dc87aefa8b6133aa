/**
 * Vault throughput for one large file, against `cp` of the same file on the same disk.
 *
 *   npx tsx scripts/bench-vault.ts                    # 1 GiB, plus an HTTP upload to a real server (needs npm run build)
 *   BENCH_VAULT_BYTES=268435456 npx tsx scripts/bench-vault.ts
 *
 * `benchVault()` is what `npm run bench` calls. Figures (MB/s = 10^6 bytes per second):
 * - cp: `cp` of the file, and `cp` followed by `sync FILE` (the vault fsyncs every blob);
 * - vault write: `Vault.ingest` from a file stream: SHA-256 + AES-256-GCM on this thread, SM3 on
 *   the digest thread, written and fsynced;
 * - vault read: `Vault.open` streamed to a file on the same disk (every segment authenticated,
 *   SHA-256 and SM3 checked): the same work as a download or a restore;
 * - upload (optional): `POST /v1/registrations` multipart of the file to a running center
 *   (`uploads` times, each of new content: the median, and every run), the client on the same
 *   machine (it takes CPU the center would otherwise have): `curl -F` when installed (C, like
 *   wrk for the other figures), else our own CLI's client;
 * - SM3 on one core, in memory: SM3 cannot be split across cores, so it bounds every figure above.
 * The file was just written, so it is in the page cache for every reader alike; `sync` runs
 * between phases so that no phase pays for the writeback of another.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { ApiClient } from '../src/cli/api-client.js';
import { startBenchServer } from './bench-server.js';
import { Store } from '../src/store/store.js';
import { Vault } from '../src/vault/vault.js';


export interface VaultBenchResult {
  bytes: number;
  /** SM3 in memory on one core (best of three 128 MiB runs, just before): the ceiling of one SM3 stream. */
  sm3OneCoreMBps: number;
  cpMBps: number;
  cpSyncMBps: number;
  vaultWriteMBps: number;
  vaultReadMBps: number;
  /** The median of the uploads, each of new content. */
  uploadMBps?: number;
  uploadRuns?: number[];
  /** Which client uploaded (`curl` or our CLI's). */
  uploadClient?: string;
}

const mbps = (bytes: number, ms: number) => Math.round(bytes / 1e6 / (ms / 1000));

/** SM3 throughput of this core right now (the machine may be shared: compare the vault against it). */
function sm3OneCore(): number {
  const block = randomBytes(1 << 20);
  let best = 0;
  for (let run = 0; run < 3; run++) {
    const hash = createHash('sm3');
    const t0 = performance.now();
    for (let i = 0; i < 128; i++) hash.update(block);
    hash.digest();
    best = Math.max(best, mbps(128 << 20, performance.now() - t0));
  }
  return best;
}

/** Writes a file of `bytes` (random 1 MiB blocks, each varied) and returns its path. */
async function makeFile(path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path);
  const block = randomBytes(1 << 20);
  for (let written = 0; written < bytes; written += block.length) {
    block.writeUInt32BE(written >>> 20, 0);
    const piece = written + block.length <= bytes ? block : block.subarray(0, bytes - written);
    if (!out.write(Buffer.from(piece))) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

/** The middle item by `key` (the lower of the two middle ones for an even count). */
export function medianBy<T>(items: readonly T[], key: (item: T) => number): T {
  return [...items].sort((a, b) => key(a) - key(b))[(items.length - 1) >> 1]!;
}

/** Writes `n` into the file's first bytes, in place. */
function vary(path: string, n: number): void {
  const fd = openSync(path, 'r+');
  try {
    const bytes = Buffer.alloc(8);
    bytes.writeBigUInt64BE(BigInt(n));
    writeSync(fd, bytes, 0, 8, 0);
  } finally {
    closeSync(fd);
  }
}

function timed(command: string, args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(command, args, { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed`);
  return performance.now() - t0;
}

/** Measures vault write and read of one `bytes`-byte file against cp; `uploadTo` adds an HTTP upload. */
export async function benchVault(options: { bytes?: number; dir?: string; uploadTo?: { url: string; token: string }; uploads?: number } = {}): Promise<VaultBenchResult> {
  const bytes = options.bytes ?? 1024 ** 3;
  const dir = mkdtempSync(join(options.dir ?? tmpdir(), 'archive-seal-bench-vault-'));
  try {
    const sm3 = sm3OneCore();
    const file = join(dir, 'original.bin');
    await makeFile(file, bytes);
    const size = statSync(file).size;
    // Each phase starts with no dirty pages left from the one before, so none pays for another's writeback.
    const settle = () => spawnSync('sync');
    settle();

    const cpMs = timed('cp', [file, join(dir, 'copy-1.bin')]);
    settle();
    const cpSyncMs = timed('sh', ['-c', `cp "${file}" "${join(dir, 'copy-2.bin')}" && sync "${join(dir, 'copy-2.bin')}"`]);
    rmSync(join(dir, 'copy-1.bin'));
    rmSync(join(dir, 'copy-2.bin'));
    settle();

    const store = await Store.open({ file: join(dir, 'bench.sqlite') });
    const vault = new Vault({ root: join(dir, 'blobs'), store, masterKey: Vault.loadMasterKey(store, join(dir, 'master.key')) });
    try {
      let t0 = performance.now();
      const blob = await vault.ingest(createReadStream(file, { highWaterMark: 1 << 20 }), { maxBytes: size });
      const writeMs = performance.now() - t0;
      settle();
      t0 = performance.now();
      const reader = await vault.open(blob.sha256, { sm3: blob.sm3, size });
      await pipeline(reader.stream, createWriteStream(join(dir, 'restored.bin'), { highWaterMark: 1 << 20 }));
      const readMs = performance.now() - t0;
      const result: VaultBenchResult = {
        bytes: size,
        sm3OneCoreMBps: sm3,
        cpMBps: mbps(size, cpMs),
        cpSyncMBps: mbps(size, cpSyncMs),
        vaultWriteMBps: mbps(size, writeMs),
        vaultReadMBps: mbps(size, readMs),
      };
      rmSync(join(dir, 'restored.bin'));
      settle();
      if (options.uploadTo) {
        const runs: number[] = [];
        for (let i = 0; i < (options.uploads ?? 1); i++) {
          if (i > 0) vary(file, i); // new content: a repeat would be answered without storing it
          t0 = performance.now();
          result.uploadClient = await upload(options.uploadTo, file, size);
          runs.push(mbps(size, performance.now() - t0));
        }
        result.uploadRuns = runs;
        result.uploadMBps = medianBy(runs, (r) => r);
      }
      return result;
    } finally {
      await vault.close();
      store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Uploads `file` as a registration; says which client did it. */
async function upload(to: { url: string; token: string }, file: string, size: number): Promise<string> {
  if (spawnSync('curl', ['--version']).error === undefined) {
    const curl = spawnSync(
      'curl',
      ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-H', `authorization: Bearer ${to.token}`, '-F', 'category=agency.digitized', '-F', `file=@${file}`, `${to.url}/v1/registrations`],
      { encoding: 'utf8' },
    );
    if (curl.stdout !== '201') throw new Error(`upload: curl answered ${curl.stdout} ${curl.stderr}`);
    return 'curl';
  }
  await new ApiClient(to.url, to.token).upload('/v1/registrations', file, size, { category: 'agency.digitized' });
  return 'archive-seal client';
}

/** Runs `run` against the built server (embedded defaults, no chain), for the upload figure. */
async function withServer<T>(run: (server: { url: string; token: string }) => Promise<T>): Promise<T> {
  const dataDir = mkdtempSync(join(tmpdir(), 'archive-seal-bench-server-'));
  const server = await startBenchServer(dataDir, { ARCHIVE_SEAL_CHAINS: 'none' });
  try {
    return await run(server);
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const bytes = Number(process.env.BENCH_VAULT_BYTES ?? 1024 ** 3);
  const upload = process.env.BENCH_VAULT_UPLOAD !== '0';
  const uploads = Number(process.env.BENCH_REPEAT ?? 3);
  const run = (uploadTo?: { url: string; token: string }) => benchVault({ bytes, uploads, ...(uploadTo && { uploadTo }) });
  (upload ? withServer(run) : run())
    .then((r) => console.log(JSON.stringify(r, null, 2)))
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
