/**
 * A local anvil with a freshly deployed AnchorRegistry, shared by the anchor and contract tests.
 * Not a test file itself: each test file starts and stops its own.
 */
import { Wallet, type HDNodeWallet, type JsonRpcProvider } from 'ethers';
import { expect } from 'vitest';
import { AnchorError } from '../../src/anchor/anchor-error.js';
import {
  AnchorRegistryClient,
  createAnchorProvider,
  deployAnchorRegistry,
  type DeployedAnchorRegistry,
} from '../../src/anchor/anchor-registry.js';
import {
  DEV_ONLY_ANVIL_ACCOUNT_0_PRIVATE_KEY,
  fundLocalAccount,
  startLocalChain,
  type LocalChain,
} from '../../src/anchor/local-chain.js';

export interface RegistryFixture {
  chain: LocalChain;
  provider: JsonRpcProvider;
  /** The deployer and initial owner (anvil dev account 0). */
  owner: Wallet;
  registry: DeployedAnchorRegistry;
  /** A client that signs as `owner`. */
  client: AnchorRegistryClient;
  /** A new random account with 1 ETH, connected to the provider. */
  fundedWallet(): Promise<HDNodeWallet>;
  /** A client for the same registry signing as `signer`. */
  clientFor(signer: Wallet | HDNodeWallet): AnchorRegistryClient;
  /** Stops polling and the chain; safe when start-up failed half way. */
  close(): Promise<void>;
}

/** 32 random bytes as 0x hex, never all zero. */
export function randomRoot(): string {
  return Wallet.createRandom().privateKey;
}

/** Starts anvil, deploys AnchorRegistry owned by dev account 0. Call `close()` in afterAll. */
export async function startRegistryFixture(chainOptions: { chainId?: number } = {}): Promise<RegistryFixture> {
  const chain = await startLocalChain(chainOptions);
  let provider: JsonRpcProvider | undefined;
  try {
    provider = createAnchorProvider(chain.rpcUrl, chain.chainId);
    const connected = provider;
    const owner = new Wallet(DEV_ONLY_ANVIL_ACCOUNT_0_PRIVATE_KEY, connected);
    const registry = await deployAnchorRegistry(owner);
    const clientFor = (signer: Wallet | HDNodeWallet): AnchorRegistryClient =>
      new AnchorRegistryClient({ address: registry.address, provider: connected, signer });
    return {
      chain,
      provider: connected,
      owner,
      registry,
      client: clientFor(owner),
      async fundedWallet() {
        const wallet = Wallet.createRandom(connected);
        await fundLocalAccount(chain.rpcUrl, wallet.address, 10n ** 18n);
        return wallet;
      },
      clientFor,
      async close() {
        connected.destroy();
        await chain.stop();
      },
    };
  } catch (error) {
    provider?.destroy();
    await chain.stop();
    throw error;
  }
}

/** The AnchorError `promise` rejects with; fails the test when it fulfils or rejects otherwise. */
export async function rejection(promise: Promise<unknown>): Promise<AnchorError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AnchorError);
    return error as AnchorError;
  }
  throw new Error('expected a rejection');
}
