import { Wallet, type JsonRpcProvider } from 'ethers';
import { AnchorRegistryClient, createAnchorProvider, toAnchorError, type AnchorEvent } from './anchor-registry.js';

/** Where and how a center anchors: one configured chain. */
export interface ChainSettings {
  /** The name periods show for this chain (e.g. "local", "consortium"). */
  name: string;
  /** JSON-RPC URL the center sends through. */
  rpcUrl: string;
  /** JSON-RPC URL verifiers should use (published by GET /v1/chains); default `rpcUrl`. */
  publicRpcUrl: string;
  chainId: number;
  /** AnchorRegistry address. */
  contract: string;
  /** Block of the contract's deployment: where event searches start. */
  deployBlock: number;
  /** The center's account key (0x hex); it must own the contract. */
  privateKey: string;
  /** Confirmations before a period counts as anchored on this chain. */
  confirmations: number;
}

/** A mined transaction, as far as anchoring cares. */
export interface MinedTransaction {
  blockNumber: number;
  blockHash: string;
  /** 1 success, 0 reverted. */
  status: number;
}

/**
 * The narrow edge between the anchoring service and a chain: everything it asks of a node.
 * `EvmAnchorChain` is the real one; a test may put another behind it.
 */
export interface AnchorChain {
  readonly settings: ChainSettings;
  rootOf(periodId: number): Promise<string>;
  lastRoot(): Promise<string>;
  latestPeriod(): Promise<number>;
  findAnchorEvent(periodId: number): Promise<AnchorEvent | null>;
  /** Next nonce counting pending transactions, and counting mined ones only. */
  nonces(): Promise<{ pending: number; latest: number }>;
  sendAnchor(periodId: number, root: string, previousRoot: string, nonce: number): Promise<string>;
  /** The receipt of a mined transaction, or null while it is not mined. */
  minedTransaction(txHash: string): Promise<MinedTransaction | null>;
  /** True while the node still knows the transaction (pending or mined). */
  knowsTransaction(txHash: string): Promise<boolean>;
  headNumber(): Promise<number>;
  /** Hash of the canonical block at `number`, or null beyond the head. */
  blockHashAt(number: number): Promise<string | null>;
  blockTime(blockHash: string): Promise<Date>;
  hasCode(): Promise<boolean>;
  close(): void;
}

/** An AnchorRegistry on an EVM JSON-RPC node, through ethers. */
export class EvmAnchorChain implements AnchorChain {
  readonly settings: ChainSettings;
  private readonly provider: JsonRpcProvider;
  private readonly client: AnchorRegistryClient;
  private readonly address: string;

  constructor(settings: ChainSettings) {
    this.settings = settings;
    this.provider = createAnchorProvider(settings.rpcUrl, settings.chainId);
    const signer = new Wallet(settings.privateKey, this.provider);
    this.address = signer.address;
    this.client = new AnchorRegistryClient({ address: settings.contract, provider: this.provider, signer, ownsProvider: true });
  }

  rootOf(periodId: number): Promise<string> {
    return this.client.rootOf(periodId);
  }

  lastRoot(): Promise<string> {
    return this.client.lastRoot();
  }

  latestPeriod(): Promise<number> {
    return this.client.latestPeriod();
  }

  findAnchorEvent(periodId: number): Promise<AnchorEvent | null> {
    return this.client.findAnchorEvent(periodId, { fromBlock: this.settings.deployBlock });
  }

  async nonces(): Promise<{ pending: number; latest: number }> {
    return this.rpc('read nonces', async () => {
      const [pending, latest] = await Promise.all([
        this.provider.getTransactionCount(this.address, 'pending'),
        this.provider.getTransactionCount(this.address, 'latest'),
      ]);
      return { pending, latest };
    });
  }

  sendAnchor(periodId: number, root: string, previousRoot: string, nonce: number): Promise<string> {
    return this.client.sendAnchor(periodId, root, previousRoot, { nonce });
  }

  minedTransaction(txHash: string): Promise<MinedTransaction | null> {
    return this.rpc('read receipt', async () => {
      const receipt = await this.provider.getTransactionReceipt(txHash);
      return receipt && { blockNumber: receipt.blockNumber, blockHash: receipt.blockHash, status: receipt.status ?? 0 };
    });
  }

  knowsTransaction(txHash: string): Promise<boolean> {
    return this.rpc('read transaction', async () => (await this.provider.getTransaction(txHash)) !== null);
  }

  headNumber(): Promise<number> {
    return this.rpc('read block number', () => this.provider.getBlockNumber());
  }

  blockHashAt(number: number): Promise<string | null> {
    return this.rpc('read block', async () => (await this.provider.getBlock(number))?.hash ?? null);
  }

  blockTime(blockHash: string): Promise<Date> {
    return this.rpc('read block time', async () => {
      const block = await this.provider.getBlock(blockHash);
      if (!block) throw new Error(`block ${blockHash} is not known`);
      return new Date(block.timestamp * 1000);
    });
  }

  hasCode(): Promise<boolean> {
    return this.rpc('read code', async () => (await this.provider.getCode(this.settings.contract)) !== '0x');
  }

  close(): void {
    this.client.close();
  }

  private async rpc<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw toAnchorError(error, what);
    }
  }
}
