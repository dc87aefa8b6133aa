/**
 * The embedded anvil: start/stop, state kept on disk across restarts, recovery from a
 * truncated state file, no orphaned node after its parent dies, and a committed contract
 * artifact that matches its source.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileAnchorRegistry, REPOSITORY_ROOT } from '../../scripts/compile-anchor-registry.js';
import {
  AnchorRegistryClient,
  ZERO_ROOT,
  createAnchorProvider,
  deployAnchorRegistry,
} from '../../src/anchor/anchor-registry.js';
import {
  DEV_ONLY_ANVIL_ACCOUNT_0_ADDRESS,
  DEV_ONLY_ANVIL_ACCOUNT_0_PRIVATE_KEY,
  fundLocalAccount,
  startLocalChain,
  type LocalChain,
  type LocalChainOptions,
} from '../../src/anchor/local-chain.js';
import { jsonRpcOverHttp } from '../../src/core/json-rpc.js';
import { checkAnchor, type JsonRpcRequest } from '../../src/core/anchor-check.js';
import { randomRoot, rejection } from './registry-fixture.js';

let dir: string;
/** Every chain a test starts, so afterAll stops the ones a failing test left behind. */
const started: LocalChain[] = [];

async function start(options: LocalChainOptions = {}): Promise<LocalChain> {
  const chain = await startLocalChain({ onWarning: () => undefined, ...options });
  started.push(chain);
  return chain;
}

/** True while `pid` is a live process (a zombie counts as gone). */
function isRunning(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    return state !== 'Z';
  } catch {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return condition();
}

/** JSON-RPC over fetch, with the requester the browser verifier uses. */
const fetchRequest = (rpcUrl: string): JsonRpcRequest => jsonRpcOverHttp(rpcUrl, fetch);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'archive-seal-chain-'));
});

afterAll(async () => {
  await Promise.all(started.map((chain) => chain.stop()));
  await rm(dir, { recursive: true, force: true });
});

describe('startLocalChain', () => {
  it('starts anvil on 127.0.0.1 with the configured chain id and stops it', async () => {
    const chain = await start({ chainId: 31_338 });
    expect(chain.rpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(chain.chainId).toBe(31_338);
    expect(isRunning(chain.pid)).toBe(true);
    expect(await fetchRequest(chain.rpcUrl)('eth_chainId', [])).toBe('0x7a6a');

    // The helpers for local development: a funded random account, the dev key's address.
    const someone = Wallet.createRandom().address;
    await fundLocalAccount(chain.rpcUrl, someone, 12_345n);
    expect(await fetchRequest(chain.rpcUrl)('eth_getBalance', [someone, 'latest'])).toBe('0x3039');
    expect(new Wallet(DEV_ONLY_ANVIL_ACCOUNT_0_PRIVATE_KEY).address).toBe(DEV_ONLY_ANVIL_ACCOUNT_0_ADDRESS);

    await chain.stop();
    expect(await chain.exited).toEqual({ code: 0, signal: null });
    expect(isRunning(chain.pid)).toBe(false);
    await chain.stop(); // idempotent
  });

  it('reports a binary that cannot run as LOCAL_CHAIN_START_FAILED', async () => {
    const error = await rejection(start({ binaryPath: join(dir, 'no-such-anvil') }));
    expect(error.code).toBe('LOCAL_CHAIN_START_FAILED');
  });

  it("reports anvil's own refusal, with its output, as LOCAL_CHAIN_START_FAILED", async () => {
    const stateFile = join(dir, 'not-a-state.json');
    await writeFile(stateFile, '{"valid":"json","but":"not an anvil state"}');
    const error = await rejection(start({ stateFile }));
    expect(error.code).toBe('LOCAL_CHAIN_START_FAILED');
    expect(error.message).toMatch(/exited with code \d+/);
  });
});

describe('state on disk', () => {
  let stateFile: string;
  let address: string;
  const root1 = randomRoot();
  let anchor1: { txHash: string; blockNumber: number; blockHash: string };

  beforeAll(() => {
    stateFile = join(dir, 'chain.json');
  });

  it('keeps a deployed contract and its anchors across stop and start', async () => {
    const first = await start({ stateFile });
    const provider = createAnchorProvider(first.rpcUrl, first.chainId);
    try {
      const owner = new Wallet(DEV_ONLY_ANVIL_ACCOUNT_0_PRIVATE_KEY, provider);
      address = (await deployAnchorRegistry(owner)).address;
      const client = new AnchorRegistryClient({ address, provider, signer: owner });
      anchor1 = await client.waitForReceipt(await client.sendAnchor(1, root1, ZERO_ROOT));
    } finally {
      provider.destroy();
      await first.stop();
    }
    // SIGTERM made anvil dump its state; stop() then refreshed the good copy from it.
    const dumped = await readFile(stateFile, 'utf8');
    expect(await readFile(`${stateFile}.good`, 'utf8')).toBe(dumped);

    const second = await start({ stateFile });
    expect(second.warnings).toEqual([]);
    const client = await AnchorRegistryClient.connect({ rpcUrl: second.rpcUrl, chainId: second.chainId, address });
    try {
      expect(await client.rootOf(1)).toBe(root1);
      // The blocks themselves survive, so a certificate's anchor still verifies.
      const report = await checkAnchor(fetchRequest(second.rpcUrl), {
        chainId: second.chainId,
        contract: address,
        periodId: 1,
        root: root1,
        previousRoot: ZERO_ROOT,
        ...anchor1,
      });
      expect(report.code, report.message).toBe('OK');
    } finally {
      client.close();
      await second.stop();
    }
  });

  it('restores the last good copy when the state file was truncated by a crash', async () => {
    // A crash in the middle of anvil's in-place rewrite leaves half a file.
    const whole = await readFile(stateFile, 'utf8');
    await writeFile(stateFile, whole.slice(0, Math.floor(whole.length / 2)));

    const warnings: string[] = [];
    const chain = await start({ stateFile, onWarning: (message) => warnings.push(message) });
    try {
      expect(chain.warnings).toEqual(warnings);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('does not parse');
      expect(warnings[0]).toContain(`restored the last good copy ${stateFile}.good`);
      const client = await AnchorRegistryClient.connect({ rpcUrl: chain.rpcUrl, chainId: chain.chainId, address });
      expect(await client.rootOf(1)).toBe(root1);
      client.close();
    } finally {
      await chain.stop();
    }
    // The unreadable file is kept aside, not deleted.
    expect((await readdir(dir)).filter((name) => name.startsWith('chain.json.broken-'))).toHaveLength(1);
  });

  it('restores the last good copy when the state file is missing', async () => {
    await rm(stateFile);
    const chain = await start({ stateFile });
    try {
      expect(chain.warnings[0]).toContain('is missing; restored the last good copy');
      expect(await fetchRequest(chain.rpcUrl)('eth_getCode', [address, 'latest'])).not.toBe('0x');
    } finally {
      await chain.stop();
    }
  });

  it('refuses to start when neither the state nor its good copy parses, unless told to start fresh', async () => {
    await writeFile(stateFile, '{"truncated');
    await writeFile(`${stateFile}.good`, '');
    const error = await rejection(start({ stateFile }));
    expect(error.code).toBe('LOCAL_CHAIN_STATE_CORRUPT');
    expect(error.message).toContain('does not parse either');

    await writeFile(stateFile, '{"truncated');
    const chain = await start({ stateFile, allowFreshStateOnCorruption: true });
    try {
      expect(chain.warnings[0]).toContain('starting an EMPTY chain');
      expect(await fetchRequest(chain.rpcUrl)('eth_getCode', [address, 'latest'])).toBe('0x');
    } finally {
      await chain.stop();
    }
  });

  it('with a state interval, a kill -9 loses at most the last interval', async () => {
    const crashFile = join(dir, 'crash.json');
    const chain = await start({ stateFile: crashFile, stateIntervalSeconds: 1 });
    const provider = createAnchorProvider(chain.rpcUrl, chain.chainId);
    let deployed: string;
    try {
      deployed = (await deployAnchorRegistry(new Wallet(DEV_ONLY_ANVIL_ACCOUNT_0_PRIVATE_KEY, provider))).address;
    } finally {
      provider.destroy();
    }
    // anvil dumps every second and the good copy trails it.
    const needle = deployed.toLowerCase().slice(2);
    const copied = await waitUntil(async () => {
      const good = await readFile(`${crashFile}.good`, 'utf8').catch(() => '');
      return good.toLowerCase().includes(needle);
    }, 10_000);
    expect(copied).toBe(true);
    chain.kill('SIGKILL');
    expect((await chain.exited).signal).toBe('SIGKILL');
    await chain.stop();

    const again = await start({ stateFile: crashFile });
    try {
      expect(await fetchRequest(again.rpcUrl)('eth_getCode', [deployed, 'latest'])).not.toBe('0x');
    } finally {
      await again.stop();
    }
  });
});

describe('no orphaned anvil', () => {
  /** Runs a Node process that starts a chain, prints its pid, then runs `then`. */
  async function orphanScenario(then: string, signal?: NodeJS.Signals): Promise<number> {
    const script = `
      const { startLocalChain } = await import(${JSON.stringify(join(REPOSITORY_ROOT, 'src/anchor/local-chain.ts'))});
      const chain = await startLocalChain();
      console.log('PID ' + chain.pid);
      ${then}
    `;
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: REPOSITORY_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const parentExited = new Promise((resolve) => parent.once('exit', resolve));
    let anvilPid = -1;
    try {
      anvilPid = await new Promise<number>((resolve, reject) => {
        let text = '';
        parent.stdout.on('data', (chunk: Buffer) => {
          text += chunk.toString();
          const match = /PID (\d+)/.exec(text);
          if (match?.[1] !== undefined) resolve(Number(match[1]));
        });
        parent.once('exit', () => reject(new Error(`parent exited before printing a pid: ${text}`)));
      });
      if (signal !== undefined) parent.kill(signal);
      await parentExited;
      expect(await waitUntil(() => !isRunning(anvilPid), 10_000)).toBe(true);
      return anvilPid;
    } finally {
      if (parent.exitCode === null && parent.signalCode === null) parent.kill('SIGKILL');
      if (anvilPid > 0 && isRunning(anvilPid)) process.kill(anvilPid, 'SIGKILL');
    }
  }

  it('anvil stops when its parent exits without calling stop()', async () => {
    await orphanScenario('process.exit(0);');
  });

  it('anvil stops when its parent is terminated by a signal', async () => {
    await orphanScenario('setInterval(() => {}, 1000);', 'SIGTERM');
  });
});

describe('an anvil left behind by a crashed parent', () => {
  it('is stopped by the next start on its state file; a reused pid is left alone', async () => {
    const stateFile = join(dir, 'orphan.json');
    const orphan = await start({ stateFile });
    expect(await readFile(`${stateFile}.pid`, 'utf8')).toBe(`${orphan.pid}\n`);
    // Another chain on another state file is not touched.
    const bystander = await start({ stateFile: join(dir, 'bystander.json') });
    const next = await start({ stateFile });
    expect(next.warnings.join('\n')).toContain(`(pid ${orphan.pid}, its parent crashed) is stopped`);
    expect(await orphan.exited).toEqual({ code: 0, signal: null }); // SIGTERM: it dumped its state
    expect(isRunning(bystander.pid)).toBe(true);
    await next.stop();
    await expect(stat(`${stateFile}.pid`)).rejects.toMatchObject({ code: 'ENOENT' });

    // The pid file names a process that is not anvil on this file (the pid was reused).
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await writeFile(`${stateFile}.pid`, `${sleeper.pid}\n`);
      const again = await start({ stateFile });
      expect(again.warnings.join('\n')).not.toContain('parent crashed');
      expect(isRunning(sleeper.pid!)).toBe(true);
      await again.stop();
    } finally {
      sleeper.kill('SIGKILL');
    }
  });
});

describe('contracts/AnchorRegistry.json', () => {
  it('is the output of compiling contracts/AnchorRegistry.sol (run `npm run compile-contracts`)', async () => {
    const committed = JSON.parse(await readFile(join(REPOSITORY_ROOT, 'contracts/AnchorRegistry.json'), 'utf8'));
    const { artifact } = await compileAnchorRegistry();
    expect(committed.sourceSha256).toBe(artifact.sourceSha256);
    expect(committed.bytecode).toBe(artifact.bytecode);
    expect(committed.deployedBytecode).toBe(artifact.deployedBytecode);
    expect(committed).toEqual(artifact);
    expect(artifact.compiler).toMatchObject({ evmVersion: 'shanghai', optimizer: { enabled: true, runs: 200 } });
    expect((await stat(join(REPOSITORY_ROOT, 'contracts/AnchorRegistry.sol'))).isFile()).toBe(true);
  });
});
