/**
 * Deploys AnchorRegistry (the committed artifact) to any EVM JSON-RPC node and prints the entry
 * for a chains file (ARCHIVE_SEAL_CHAINS). The key file holds the center's 0x-hex private key; its
 * account becomes the owner, the only one allowed to anchor.
 *
 *   npx tsx scripts/deploy.ts --rpc URL --chain-id N --key-file FILE [--name NAME] [--confirmations N]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Wallet } from 'ethers';
import { createAnchorProvider, deployAnchorRegistry } from '../src/anchor/anchor-registry.js';

const { values } = parseArgs({
  options: {
    rpc: { type: 'string' },
    'chain-id': { type: 'string' },
    'key-file': { type: 'string' },
    name: { type: 'string', default: 'main' },
    confirmations: { type: 'string', default: '6' },
  },
});
if (!values.rpc || !values['chain-id'] || !values['key-file']) {
  console.error('usage: npx tsx scripts/deploy.ts --rpc URL --chain-id N --key-file FILE [--name NAME] [--confirmations N]');
  process.exit(2);
}
const chainId = Number(values['chain-id']);
const key = readFileSync(values['key-file'], 'utf8').trim();
const provider = createAnchorProvider(values.rpc, chainId);
try {
  const deployed = await deployAnchorRegistry(new Wallet(key, provider));
  console.error(`AnchorRegistry deployed at ${deployed.address} in block ${deployed.blockNumber} (tx ${deployed.txHash}, ${deployed.gasUsed} gas)`);
  console.log(
    JSON.stringify(
      {
        name: values.name,
        rpcUrl: values.rpc,
        chainId,
        contract: deployed.address,
        deployBlock: deployed.blockNumber,
        keyFile: values['key-file'],
        confirmations: Number(values.confirmations),
      },
      null,
      2,
    ),
  );
} catch (err) {
  console.error(`deployment failed: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  provider.destroy();
}
