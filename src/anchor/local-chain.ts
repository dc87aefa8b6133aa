/**
 * The embedded development chain: an anvil process on 127.0.0.1, started by the project, whose
 * state survives restarts through `--state FILE` plus a last good copy (`FILE.good`).
 *
 * anvil rewrites its state file in place, so a crash during a dump leaves a truncated file that
 * anvil then refuses to load ("failed to parse json file"). The `.good` copy is only ever
 * replaced by a file that parsed, written to a temporary name and renamed.
 *
 * A kill -9 of this process leaves anvil running (no handler of ours runs), still holding the
 * port and still dumping into the state file. So the anvil of a state file is recorded in
 * `FILE.pid` when spawned, and the next start stops that one (SIGTERM: it dumps its state,
 * which is the newest there is) before it spawns its own.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants as fsConstants, readFileSync, unlinkSync } from 'node:fs';
import { chmod, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve as resolvePath } from 'node:path';
import { createInterface } from 'node:readline';
import { AnchorError } from './anchor-error.js';
import { PRIVATE_FILE_MODE, writeFileDurably } from '../durable-files.js';

/**
 * DEV ONLY. Private key of anvil's account 0, derived from the public mnemonic
 * "test test test test test test test test test test test junk". Everyone knows it: anything
 * it holds on a real chain is stolen within seconds. Use it only against a local anvil.
 */
export const DEV_ONLY_ANVIL_ACCOUNT_0_PRIVATE_KEY =
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';

/** DEV ONLY. Address of {@link DEV_ONLY_ANVIL_ACCOUNT_0_PRIVATE_KEY}. */
export const DEV_ONLY_ANVIL_ACCOUNT_0_ADDRESS = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';

/** anvil's default chain id, used unless another is configured. */
export const LOCAL_CHAIN_DEFAULT_CHAIN_ID = 31337;

/** Options of {@link startLocalChain}. */
export interface LocalChainOptions {
  /** Keep the chain in this JSON file (`anvil --state`); without it the chain lives in memory. */
  stateFile?: string;
  /** Also dump the state every N seconds (`--state-interval`), bounding what a kill -9 loses. */
  stateIntervalSeconds?: number;
  /** Chain id; default 31337. */
  chainId?: number;
  /** TCP port on 127.0.0.1; default 0 (a free one, read back from anvil's output). */
  port?: number;
  /** Mine a block every N seconds instead of one per transaction (`--block-time`). */
  blockTimeSeconds?: number;
  /**
   * When both the state file and its `.good` copy are unreadable, start an empty chain (the bad
   * file is kept aside) instead of throwing. Off by default: losing anchored history must be a
   * decision, not an accident.
   */
  allowFreshStateOnCorruption?: boolean;
  /** Use this anvil binary instead of the one from `@foundry-rs/anvil-<platform>-<arch>`. */
  binaryPath?: string;
  /** How long to wait for "Listening on"; default 15 s. */
  startTimeoutMs?: number;
  /** How long `stop()` waits after SIGTERM before SIGKILL; default 10 s. */
  stopTimeoutMs?: number;
  /** Receives each warning (state restored, copy failed); default `console.warn`. */
  onWarning?: (message: string) => void;
}

/** A running local chain. */
export interface LocalChain {
  /** `http://127.0.0.1:PORT`. */
  readonly rpcUrl: string;
  readonly chainId: number;
  readonly pid: number;
  /** Warnings raised so far (also passed to `onWarning`). */
  readonly warnings: readonly string[];
  /** Settles when the process has exited, however that happened. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /**
   * SIGTERM (anvil dumps its state), wait for exit, SIGKILL after `stopTimeoutMs`; then refresh
   * the `.good` copy. Safe to call twice.
   */
  stop(): Promise<void>;
  /** Sends a raw signal, e.g. SIGKILL to simulate a crash in tests. */
  kill(signal?: NodeJS.Signals): boolean;
  /** Copies the state file to `.good` if it parses now; returns whether it did. */
  saveGoodState(): Promise<boolean>;
  /** The last lines anvil printed, for diagnostics. */
  recentOutput(): string[];
}

const OUTPUT_LINES_KEPT = 50;
const LISTENING_PATTERN = /Listening on 127\.0\.0\.1:(\d+)/;

/**
 * Starts anvil on 127.0.0.1 with a free port and resolves once it accepts connections.
 * With `stateFile`, a truncated state file is first replaced by its last good copy.
 */
export async function startLocalChain(options: LocalChainOptions = {}): Promise<LocalChain> {
  const chainId = options.chainId ?? LOCAL_CHAIN_DEFAULT_CHAIN_ID;
  validatePositiveInteger(chainId, 'chainId');
  if (options.stateIntervalSeconds !== undefined) validatePositiveInteger(options.stateIntervalSeconds, 'stateIntervalSeconds');
  if (options.blockTimeSeconds !== undefined) validatePositiveInteger(options.blockTimeSeconds, 'blockTimeSeconds');
  const binary = options.binaryPath ?? resolveAnvilBinary();
  const warnings: string[] = [];
  const warn = (message: string): void => {
    warnings.push(message);
    (options.onWarning ?? console.warn)(message);
  };

  // Absolute, so the command line recorded for the orphan check names the file whatever the cwd.
  const stateFile = options.stateFile === undefined ? undefined : resolvePath(options.stateFile);
  const pidFile = stateFile === undefined ? undefined : `${stateFile}.pid`;
  if (stateFile !== undefined && pidFile !== undefined) {
    await stopOrphanedAnvil(pidFile, stateFile, options.stopTimeoutMs ?? 10_000, warn);
    await prepareStateFile(stateFile, options.allowFreshStateOnCorruption === true, warn);
  }

  const args = ['--host', '127.0.0.1', '--port', String(options.port ?? 0), '--chain-id', String(chainId)];
  if (stateFile !== undefined) args.push('--state', stateFile);
  if (options.stateIntervalSeconds !== undefined) args.push('--state-interval', String(options.stateIntervalSeconds));
  if (options.blockTimeSeconds !== undefined) args.push('--block-time', String(options.blockTimeSeconds));

  // Spawn the binary itself, not the npm wrapper: killing the wrapper leaves anvil running.
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  trackChild(child);
  if (pidFile !== undefined && child.pid !== undefined) {
    const pid = child.pid;
    // Written before anvil touches the state file; removed once it has exited (by then nothing
    // of ours is left to stop).
    try {
      await writeFile(pidFile, `${pid}\n`, { mode: PRIVATE_FILE_MODE });
    } catch (error) {
      child.kill('SIGKILL');
      await exited;
      throw new AnchorError('LOCAL_CHAIN_START_FAILED', `cannot write ${pidFile}`, { cause: error });
    }
    void exited.then(() => removePidFile(pidFile, pid));
  }
  // A spawn failure emits 'error' and no 'exit'.
  void Promise.race([exited, spawnError]).then(() => untrackChild(child));

  // anvil logs every RPC call; the pipes are drained for the whole life of the process, or
  // anvil would block once the pipe buffer fills.
  let onListening: ((port: number) => void) | undefined;
  const listening = new Promise<number>((resolve) => (onListening = resolve));
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
      output.push(line);
      if (output.length > OUTPUT_LINES_KEPT) output.shift();
      const match = LISTENING_PATTERN.exec(line);
      if (match?.[1] !== undefined) onListening?.(Number(match[1]));
    });
  }

  const startTimeoutMs = options.startTimeoutMs ?? 15_000;
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    listening.then((port) => ({ kind: 'listening' as const, port })),
    exited.then((exit) => ({ kind: 'exited' as const, exit })),
    spawnError.then((error) => ({ kind: 'error' as const, error })),
    new Promise<{ kind: 'timeout' }>((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'timeout' }), startTimeoutMs);
    }),
  ]);
  clearTimeout(timer);

  if (outcome.kind !== 'listening') {
    if (outcome.kind === 'timeout') {
      child.kill('SIGKILL');
      await exited;
    }
    // Give readline a tick to flush the last lines anvil wrote before it exited.
    await new Promise((resolve) => setImmediate(resolve));
    const reason =
      outcome.kind === 'exited'
        ? `exited with ${outcome.exit.signal ?? `code ${outcome.exit.code}`}`
        : outcome.kind === 'error'
          ? `could not be spawned (${outcome.error.message})`
          : `did not report a port within ${startTimeoutMs} ms`;
    throw new AnchorError('LOCAL_CHAIN_START_FAILED', `anvil ${reason}:\n${output.join('\n')}`, {
      cause: outcome.kind === 'error' ? outcome.error : undefined,
      details: { binary, args, output: [...output] },
    });
  }

  const copyCache: GoodCopyCache = { digest: undefined };
  const saveGoodState = async (): Promise<boolean> =>
    stateFile === undefined ? false : saveGoodCopy(stateFile, copyCache);

  // anvil accepted the file it loaded, so it is good by definition. (A fresh chain has no file
  // until its first dump; then there is nothing to copy yet.)
  if (stateFile !== undefined) {
    try {
      await saveGoodState();
    } catch (error) {
      child.kill('SIGTERM');
      await exited;
      throw new AnchorError('LOCAL_CHAIN_START_FAILED', `cannot write ${stateFile}.good`, { cause: error });
    }
  }

  // Trail anvil's own periodic dumps, so the good copy is at most one interval behind them.
  let copier: NodeJS.Timeout | undefined;
  if (stateFile !== undefined && options.stateIntervalSeconds !== undefined) {
    copier = setInterval(() => {
      saveGoodState().catch((error: unknown) => warn(`could not refresh ${stateFile}.good: ${String(error)}`));
    }, options.stateIntervalSeconds * 1000);
    copier.unref();
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      clearInterval(copier);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        let killTimer: NodeJS.Timeout | undefined;
        const stopped = await Promise.race([
          exited.then(() => true),
          new Promise<boolean>((resolve) => {
            killTimer = setTimeout(() => resolve(false), options.stopTimeoutMs ?? 10_000);
          }),
        ]);
        clearTimeout(killTimer);
        if (!stopped) {
          warn(`anvil (pid ${child.pid}) ignored SIGTERM; killed, state since its last dump is lost`);
          child.kill('SIGKILL');
          await exited;
        }
      }
      if (stateFile !== undefined && !(await saveGoodState())) {
        warn(`state file ${stateFile} did not parse after anvil stopped; ${stateFile}.good was kept`);
      }
    })();
    return stopping;
  };

  return {
    rpcUrl: `http://127.0.0.1:${outcome.port}`,
    chainId,
    pid: child.pid ?? -1,
    warnings,
    exited,
    stop,
    kill: (signal: NodeJS.Signals = 'SIGTERM') => child.kill(signal),
    saveGoodState,
    recentOutput: () => [...output],
  };
}

/**
 * Sets an account's balance on a local anvil (`anvil_setBalance`); for funding test and dev
 * accounts. Throws an {@link AnchorError} with RPC_UNAVAILABLE or RPC_ERROR.
 */
export async function fundLocalAccount(rpcUrl: string, address: string, balanceWei: bigint): Promise<void> {
  if (!/^0x[0-9a-fA-F]{40}$/.test(address)) {
    throw new AnchorError('INVALID_ARGUMENT', `not an address: ${address}`);
  }
  let response: Response;
  try {
    response = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'anvil_setBalance', params: [address, `0x${balanceWei.toString(16)}`] }),
    });
  } catch (error) {
    throw new AnchorError('RPC_UNAVAILABLE', `cannot reach ${rpcUrl}`, { cause: error });
  }
  const body = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
  if (!response.ok || body === null || body.error !== undefined) {
    throw new AnchorError('RPC_ERROR', `anvil_setBalance failed: ${body?.error?.message ?? `HTTP ${response.status}`}`);
  }
}

/**
 * Path of the anvil binary shipped in `@foundry-rs/anvil-<platform>-<arch>`, an optional
 * dependency of `@foundry-rs/anvil` (gone after `npm ci --omit=optional`).
 */
export function resolveAnvilBinary(): string {
  // The packages use Go-style arch names.
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const packageName = `@foundry-rs/anvil-${process.platform}-${arch}`;
  let packageJson: string;
  try {
    packageJson = createRequire(import.meta.url).resolve(`${packageName}/package.json`);
  } catch (error) {
    throw new AnchorError(
      'LOCAL_CHAIN_BINARY_MISSING',
      `the anvil binary package ${packageName} is not installed; it is an optional dependency of ` +
        `@foundry-rs/anvil, so reinstall without --omit=optional, or configure an external chain RPC URL`,
      { cause: error },
    );
  }
  const binary = join(dirname(packageJson), 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil');
  try {
    accessSync(binary, fsConstants.X_OK);
  } catch (error) {
    throw new AnchorError('LOCAL_CHAIN_BINARY_MISSING', `${binary} is missing or not executable`, { cause: error });
  }
  return binary;
}

type StateFileReading = { kind: 'missing' } | { kind: 'good'; text: string } | { kind: 'broken'; reason: string };

async function readStateFile(path: string): Promise<StateFileReading> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw error;
  }
  try {
    JSON.parse(text);
    return { kind: 'good', text };
  } catch (error) {
    return { kind: 'broken', reason: (error as Error).message };
  }
}

/** Makes `stateFile` loadable before anvil starts, or throws LOCAL_CHAIN_STATE_CORRUPT. */
async function prepareStateFile(stateFile: string, allowFresh: boolean, warn: (message: string) => void): Promise<void> {
  const current = await readStateFile(stateFile);
  if (current.kind === 'good') return;
  const goodFile = `${stateFile}.good`;
  const good = await readStateFile(goodFile);
  if (current.kind === 'missing' && good.kind === 'missing') return; // first start

  let asideNote = '';
  if (current.kind === 'broken') {
    // Kept, not deleted: the blocks it held after the good copy may still be worth recovering.
    const aside = `${stateFile}.broken-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    await rename(stateFile, aside);
    asideNote = `; the unreadable file was moved to ${aside}`;
  }
  const problem = current.kind === 'broken' ? `does not parse (${current.reason})` : 'is missing';

  if (good.kind === 'good') {
    await writeFileDurably(stateFile, good.text);
    warn(
      `chain state file ${stateFile} ${problem}; restored the last good copy ${goodFile}` +
        ` (blocks mined after that copy are lost)${asideNote}`,
    );
    return;
  }
  const goodProblem = good.kind === 'missing' ? 'there is no last good copy' : `the last good copy ${goodFile} does not parse either`;
  if (allowFresh) {
    warn(`chain state file ${stateFile} ${problem} and ${goodProblem}; starting an EMPTY chain${asideNote}`);
    return;
  }
  throw new AnchorError(
    'LOCAL_CHAIN_STATE_CORRUPT',
    `chain state file ${stateFile} ${problem} and ${goodProblem}${asideNote}. ` +
      'Restore it from a backup, or allow a fresh chain explicitly (anchored history on this chain would be lost).',
    { details: { stateFile, goodFile } },
  );
}

/** What one chain last copied, so a periodic copy of an unchanged file costs no write. */
interface GoodCopyCache {
  digest: string | undefined;
}

/** Copies `stateFile` to `stateFile.good` when it parses; skips unchanged content. */
async function saveGoodCopy(stateFile: string, cache: GoodCopyCache): Promise<boolean> {
  // anvil creates its state file with the mode its umask gives (archive-seal's own is 077, but a
  // library caller's may not be): the chain's state is the center's, private like the rest.
  await chmod(stateFile, PRIVATE_FILE_MODE).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
  const reading = await readStateFile(stateFile);
  if (reading.kind !== 'good') return false;
  const digest = createHash('sha256').update(reading.text).digest('hex');
  if (cache.digest === digest) return true;
  await writeFileDurably(`${stateFile}.good`, reading.text);
  cache.digest = digest;
  return true;
}

/**
 * Stops the anvil a crashed run of this process left on `stateFile`, if `pidFile` names one:
 * SIGTERM (so it dumps the chain it holds), SIGKILL after `timeoutMs`, and waits until it is
 * gone. A pid that is not (or no longer) an anvil on this state file is left alone: pids are
 * reused.
 */
async function stopOrphanedAnvil(pidFile: string, stateFile: string, timeoutMs: number, warn: (message: string) => void): Promise<void> {
  let pid: number;
  try {
    pid = Number((await readFile(pidFile, 'utf8')).trim());
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (!Number.isSafeInteger(pid) || pid < 2 || pid === process.pid) return;
  const commandLine = await commandLineOf(pid);
  if (commandLine === undefined || !isAnvilOn(commandLine, stateFile)) return;
  warn(`an anvil left running on ${stateFile} (pid ${pid}, its parent crashed) is stopped before a new one starts`);
  process.kill(pid, 'SIGTERM');
  if (await waitForExit(pid, timeoutMs)) return;
  warn(`anvil (pid ${pid}) ignored SIGTERM; killed, state since its last dump is lost`);
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return; // gone meanwhile
  }
  if (!(await waitForExit(pid, timeoutMs))) {
    throw new AnchorError('LOCAL_CHAIN_START_FAILED', `anvil (pid ${pid}) left running on ${stateFile} does not exit`);
  }
}

/**
 * The command line of a live process (a zombie has none): argv from /proc, or elsewhere the
 * space-joined line `ps` prints.
 */
async function commandLineOf(pid: number): Promise<string[] | string | undefined> {
  if (!isAlive(pid)) return undefined;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((arg) => arg !== '');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || process.platform === 'linux') return undefined;
  }
  return new Promise((resolve) => {
    execFile('ps', ['-o', 'command=', '-p', String(pid)], (error, stdout) => resolve(error ? undefined : stdout.trim()));
  });
}

function isAnvilOn(commandLine: string[] | string, stateFile: string): boolean {
  if (typeof commandLine === 'string') return /\banvil\b/.test(commandLine) && commandLine.includes(`--state ${stateFile}`);
  const [program = '', ...args] = commandLine;
  const stateIndex = args.indexOf('--state');
  return basename(program).startsWith('anvil') && stateIndex >= 0 && args[stateIndex + 1] === stateFile;
}

/** True while `pid` runs; a zombie (exited, not yet reaped) counts as gone. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return true; // no /proc: kill(0) said it is there
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

/** Removes the pid file if it still names `pid` (a newer anvil may have replaced it). */
function removePidFile(pidFile: string, pid: number): void {
  try {
    if (Number(readFileSync(pidFile, 'utf8').trim()) === pid) unlinkSync(pidFile);
  } catch {
    // Already gone, or unreadable: the next start checks the pid it names anyway.
  }
}

function validatePositiveInteger(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new AnchorError('INVALID_ARGUMENT', `${name} must be a positive integer, got ${value}`);
  }
}

// Children still running when this process goes away are told to stop (SIGTERM, so anvil still
// dumps its state). Nothing runs here after a SIGKILL of this process: the next start stops
// such an orphan through the state file's pid file (stopOrphanedAnvil). Ctrl+C reaches anvil
// anyway because it shares our process group.
const liveChildren = new Set<ChildProcess>();
const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function stopLiveChildren(): void {
  for (const child of liveChildren) child.kill('SIGTERM');
}

function onParentSignal(signal: NodeJS.Signals): void {
  stopLiveChildren();
  removeParentHandlers();
  // Our listener replaced Node's default action (exit); restore it unless someone else handles
  // the signal.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function removeParentHandlers(): void {
  process.off('exit', stopLiveChildren);
  for (const signal of FORWARDED_SIGNALS) process.off(signal, onParentSignal);
}

function trackChild(child: ChildProcess): void {
  if (liveChildren.size === 0) {
    process.on('exit', stopLiveChildren);
    for (const signal of FORWARDED_SIGNALS) process.on(signal, onParentSignal);
  }
  liveChildren.add(child);
}

function untrackChild(child: ChildProcess): void {
  liveChildren.delete(child);
  if (liveChildren.size === 0) removeParentHandlers();
}
