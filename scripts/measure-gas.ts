/**
 * Prints what AnchorRegistry costs on a fresh local anvil: deployment gas, gas per anchor (first
 * and subsequent, split into intrinsic, calldata and execution), and send+wait latency.
 * Run with `npx tsx scripts/measure-gas.ts [anchors]` (default 200 anchors).
 */
import { Wallet, randomBytes, hexlify } from 'ethers';
import {
  AnchorRegistryClient,
  ZERO_ROOT,
  anchorRegistryInterface,
  createAnchorProvider,
  deployAnchorRegistry,
} from '../src/anchor/anchor-registry.js';
import { DEV_ONLY_ANVIL_ACCOUNT_0_PRIVATE_KEY, startLocalChain } from '../src/anchor/local-chain.js';

const count = Number(process.argv[2] ?? 200);

/** EIP-2028 calldata cost: 4 gas per zero byte, 16 per non-zero byte. */
function calldataGas(data: string): bigint {
  let gas = 0n;
  for (let i = 2; i < data.length; i += 2) gas += data.slice(i, i + 2) === '00' ? 4n : 16n;
  return gas;
}

/** A root without zero bytes, so every anchor has the same calldata cost. */
function nonZeroRoot(): string {
  const bytes = randomBytes(32).map((b) => (b === 0 ? 1 : b));
  return hexlify(bytes);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

let started = performance.now();
const chain = await startLocalChain();
const startupMs = performance.now() - started;
const provider = createAnchorProvider(chain.rpcUrl, chain.chainId);
try {
  const owner = new Wallet(DEV_ONLY_ANVIL_ACCOUNT_0_PRIVATE_KEY, provider);
  const deployed = await deployAnchorRegistry(owner);
  const client = new AnchorRegistryClient({ address: deployed.address, provider, signer: owner });
  const iface = anchorRegistryInterface();

  const gas: bigint[] = [];
  const execution: bigint[] = [];
  const latency: number[] = [];
  let previous = ZERO_ROOT;
  for (let periodId = 1; periodId <= count; periodId++) {
    const root = nonZeroRoot();
    started = performance.now();
    const { gasUsed } = await client.waitForReceipt(await client.sendAnchor(periodId, root, previous));
    latency.push(performance.now() - started);
    gas.push(gasUsed);
    execution.push(gasUsed - 21_000n - calldataGas(iface.encodeFunctionData('anchor', [periodId, root, previous])));
    previous = root;
  }
  const later = gas.slice(1);
  const distinct = [...new Set(later)];
  console.log(`anvil start-up               ${startupMs.toFixed(0)} ms`);
  console.log(`deployment                   ${deployed.gasUsed} gas`);
  console.log(`anchor #1                    ${gas[0]} gas (previousRoot is 32 zero bytes: cheaper calldata)`);
  console.log(`anchors #2..#${count}            ${distinct.join(', ')} gas (${distinct.length} distinct value(s))`);
  console.log(`execution part, every anchor ${[...new Set(execution)].join(', ')} gas`);
  console.log(`send+wait per anchor         median ${median(latency).toFixed(1)} ms, max ${Math.max(...latency).toFixed(1)} ms`);
} finally {
  provider.destroy();
  await chain.stop();
}
