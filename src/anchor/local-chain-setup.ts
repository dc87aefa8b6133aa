import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import type { ChainSettings } from './anchor-chain.js';
import { createAnchorProvider, deployAnchorRegistry } from './anchor-registry.js';
import { fundLocalAccount, startLocalChain, type LocalChain } from './local-chain.js';

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

/**
 * The embedded default chain: anvil with its state under `dataDir/chain`, the center's own key
 * (made once, `dataDir/chain/center-key.hex`, funded by anvil), and the AnchorRegistry deployed
 * once (the address remembered in `deployment.json`). A development chain: nothing anchored here
 * is evidence to anyone who does not trust this machine.
 */
export async function setUpLocalChain(options: {
  dataDir: string;
  port: number;
  confirmations: number;
  log: (line: string) => void;
}): Promise<LocalChainSetup> {
  const dir = join(options.dataDir, 'chain');
  await mkdir(dir, { recursive: true });
  const chain = await startLocalChain({
    stateFile: join(dir, 'anvil-state.json'),
    stateIntervalSeconds: 1,
    port: options.port,
    onWarning: (m) => options.log(`local chain: ${m}`),
  });
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

async function centerKey(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const key = `0x${randomBytes(32).toString('hex')}`;
    await writeFile(file, key + '\n', { mode: 0o600, flag: 'wx' });
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
    await writeFile(file, JSON.stringify(deployment, null, 2) + '\n');
    log(`local chain: AnchorRegistry deployed at ${deployed.address} (block ${deployed.blockNumber})`);
    return deployment;
  } finally {
    provider.destroy();
  }
}
