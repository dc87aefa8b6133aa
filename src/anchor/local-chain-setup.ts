import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { ensurePrivateDirectory, PRIVATE_FILE_MODE } from '../durable-files.js';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import type { ChainSettings } from './anchor-chain.js';
import { createAnchorProvider, deployAnchorRegistry } from './anchor-registry.js';
import { fundLocalAccount, startLocalChain, type LocalChain, type LocalChainOptions } from './local-chain.js';

/** What `data/chain/deployment.json` remembers about the local chain's registry. */
interface LocalDeployment {
  chainId: number;
  contract: string;
  deployBlock: number;
  deployTx: string;
}

export interface LocalChainSetup {
  chain: LocalChain;
  settings: ChainSettings;
}

/** Pause before restarting a local chain that died, doubling while restarts fail. */
const RESTART_DELAY_MS = 500;
const MAX_RESTART_DELAY_MS = 30_000;

/**
 * The embedded default chain: anvil with its state under `dataDir/chain`, the center's own key
 * (made once, `dataDir/chain/center-key.hex`, funded by anvil), and the AnchorRegistry deployed
 * once (the address remembered in `deployment.json`). A development chain: nothing anchored here
 * is evidence to anyone who does not trust this machine.
 *
 * An anvil that dies while the center runs is started again from its state file on the same
 * port (the anchoring service keeps its URL); blocks after its last dump are lost, which the
 * anchoring service sees as a reorg and anchors again.
 */
export async function setUpLocalChain(options: {
  dataDir: string;
  port: number;
  confirmations: number;
  log: (line: string) => void;
}): Promise<LocalChainSetup> {
  const dir = join(options.dataDir, 'chain');
  await ensurePrivateDirectory(dir);
  const chainOptions: LocalChainOptions = {
    stateFile: join(dir, 'anvil-state.json'),
    stateIntervalSeconds: 1,
    port: options.port,
    onWarning: (m) => options.log(`local chain: ${m}`),
  };
  const chain = superviseLocalChain(await startLocalChain(chainOptions), chainOptions, options.log);
  try {
    const privateKey = await centerKey(join(dir, 'center-key.hex'));
    const wallet = new Wallet(privateKey);
    // Plenty for years of anchors; anvil mints it.
    await fundLocalAccount(chain.rpcUrl, wallet.address, 10n ** 21n);
    const deployment = await ensureDeployment(join(dir, 'deployment.json'), chain, privateKey, options.log);
    return {
      chain,
      settings: {
        name: 'local',
        rpcUrl: chain.rpcUrl,
        publicRpcUrl: chain.rpcUrl,
        chainId: chain.chainId,
        contract: deployment.contract,
        deployBlock: deployment.deployBlock,
        privateKey,
        confirmations: options.confirmations,
      },
    };
  } catch (err) {
    await chain.stop();
    throw err;
  }
}

/**
 * A {@link LocalChain} that starts anvil again (same options, the port it got) whenever it exits
 * without `stop()`; `pid` and the rest follow the running process, `exited` settles after `stop()`.
 */
export function superviseLocalChain(first: LocalChain, options: LocalChainOptions, log: (line: string) => void): LocalChain {
  const port = Number(new URL(first.rpcUrl).port);
  let current = first;
  let stopped = false;
  let restarting: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let finalExit: (exit: { code: number | null; signal: NodeJS.Signals | null }) => void = () => {};
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => (finalExit = resolve));

  const watch = (chain: LocalChain): void => {
    void chain.exited.then((exit) => {
      if (stopped) return finalExit(exit);
      const how = exit.signal ?? `code ${exit.code}`;
      log(`local chain: anvil (pid ${chain.pid}) exited with ${how} while the center runs; starting it again on port ${port}`);
      restarting = restart();
    });
  };
  const restart = async (): Promise<void> => {
    for (let attempt = 0; !stopped; attempt++) {
      try {
        current = await startLocalChain({ ...options, port });
        if (stopped) {
          await current.stop();
          return finalExit(await current.exited);
        }
        log(`local chain: anvil started again (pid ${current.pid})`);
        watch(current);
        return;
      } catch (error) {
        const wait = Math.min(RESTART_DELAY_MS * 2 ** attempt, MAX_RESTART_DELAY_MS);
        log(`local chain: restart failed (${(error as Error).message.split('\n')[0]}); trying again in ${wait} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  };
  watch(first);

  return {
    rpcUrl: first.rpcUrl,
    chainId: first.chainId,
    get pid() {
      return current.pid;
    },
    get warnings() {
      return current.warnings;
    },
    exited,
    async stop() {
      stopped = true;
      wake?.();
      await restarting;
      await current.stop();
      finalExit(await current.exited);
    },
    kill: (signal) => current.kill(signal),
    saveGoodState: () => current.saveGoodState(),
    recentOutput: () => current.recentOutput(),
  };
}

async function centerKey(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const key = `0x${randomBytes(32).toString('hex')}`;
    await writeFile(file, key + '\n', { mode: PRIVATE_FILE_MODE, flag: 'wx' });
    return key;
  }
}

/** Deploys the registry unless the remembered one still has code on this chain. */
async function ensureDeployment(file: string, chain: LocalChain, privateKey: string, log: (line: string) => void): Promise<LocalDeployment> {
  const provider = createAnchorProvider(chain.rpcUrl, chain.chainId);
  try {
    let known: LocalDeployment | undefined;
    try {
      known = JSON.parse(await readFile(file, 'utf8')) as LocalDeployment;
    } catch {
      known = undefined;
    }
    if (known && known.chainId === chain.chainId && (await provider.getCode(known.contract)) !== '0x') return known;
    if (known) log(`local chain: the registry at ${known.contract} is gone (chain state lost); deploying a new one`);
    const deployed = await deployAnchorRegistry(new Wallet(privateKey, provider));
    const deployment = { chainId: chain.chainId, contract: deployed.address, deployBlock: deployed.blockNumber, deployTx: deployed.txHash };
    await writeFile(file, JSON.stringify(deployment, null, 2) + '\n', { mode: PRIVATE_FILE_MODE });
    log(`local chain: AnchorRegistry deployed at ${deployed.address} (block ${deployed.blockNumber})`);
    return deployment;
  } finally {
    provider.destroy();
  }
}
