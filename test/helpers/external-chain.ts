import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { createAnchorProvider, deployAnchorRegistry } from '../../src/anchor/anchor-registry.js';
import { DEV_ONLY_ANVIL_ACCOUNT_0_PRIVATE_KEY, startLocalChain, type LocalChain } from '../../src/anchor/local-chain.js';
import { PERIOD_ANCHORED_TOPIC } from '../../src/core/anchor-abi.js';

/**
 * An anvil the test owns (so it can kill, restart, mine and rewind it), with an AnchorRegistry
 * deployed, and the chains file that points a center at it (ARCHIVE_SEAL_CHAINS).
 */
export interface ExternalChain {
  chain: LocalChain;
  rpcUrl: string;
  contract: string;
  chainsFile: string;
  rpc(method: string, params?: unknown[]): Promise<any>;
  /** kill -9 the node, as a crash would. */
  crash(): Promise<void>;
  /** Starts the node again on the same port from its state file (a truncated one is restored). */
  restart(): Promise<void>;
  /** PeriodAnchored logs per period id on the live chain. */
  anchorEvents(): Promise<Map<number, number>>;
  stop(): Promise<void>;
}

export async function startExternalChain(dir: string, options: { confirmations: number; name?: string; chainId?: number }): Promise<ExternalChain> {
  const stateFile = join(dir, 'anvil-state.json');
  let chain = await startLocalChain({ stateFile, stateIntervalSeconds: 1, onWarning: () => {}, ...(options.chainId !== undefined && { chainId: options.chainId }) });
  const port = Number(new URL(chain.rpcUrl).port);
  const provider = createAnchorProvider(chain.rpcUrl, chain.chainId);
  const deployed = await deployAnchorRegistry(new Wallet(DEV_ONLY_ANVIL_ACCOUNT_0_PRIVATE_KEY, provider));
  provider.destroy();
  await chain.saveGoodState();
  const keyFile = join(dir, 'key.hex');
  writeFileSync(keyFile, DEV_ONLY_ANVIL_ACCOUNT_0_PRIVATE_KEY + '\n', { mode: 0o600 });
  const chainsFile = join(dir, 'chains.json');
  writeFileSync(
    chainsFile,
    JSON.stringify([
      {
        name: options.name ?? 'testnet',
        rpcUrl: chain.rpcUrl,
        chainId: chain.chainId,
        contract: deployed.address,
        deployBlock: deployed.blockNumber,
        keyFile: 'key.hex',
        confirmations: options.confirmations,
      },
    ]),
  );
  const rpc = async (method: string, params: unknown[] = []) => {
    const res = await fetch(chain.rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    });
    const body = (await res.json()) as { result?: unknown; error?: { message: string } };
    if (body.error) throw new Error(`${method}: ${body.error.message}`);
    return body.result;
  };
  return {
    get chain() {
      return chain;
    },
    rpcUrl: chain.rpcUrl,
    contract: deployed.address,
    chainsFile,
    rpc,
    async crash() {
      chain.kill('SIGKILL');
      await chain.exited;
    },
    async restart() {
      chain = await startLocalChain({ stateFile, stateIntervalSeconds: 1, port, onWarning: () => {}, ...(options.chainId !== undefined && { chainId: options.chainId }) });
    },
    async anchorEvents() {
      const logs = (await rpc('eth_getLogs', [{ address: deployed.address, topics: [PERIOD_ANCHORED_TOPIC], fromBlock: '0x0', toBlock: 'latest' }])) as {
        topics: string[];
      }[];
      const counts = new Map<number, number>();
      for (const log of logs) {
        const period = Number(BigInt(log.topics[1]!));
        counts.set(period, (counts.get(period) ?? 0) + 1);
      }
      return counts;
    },
    async stop() {
      await chain.stop();
    },
  };
}

/** Polls `probe` until it returns a value that is not undefined; fails after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
