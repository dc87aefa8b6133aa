/**
 * ethers v6 client for contracts/AnchorRegistry.sol, built from the committed artifact
 * (contracts/AnchorRegistry.json; solc never runs at runtime). Every failure surfaces as an
 * {@link AnchorError}; contract reverts are decoded from the custom errors.
 */
import { readFileSync } from 'node:fs';
import {
  ContractFactory,
  Interface,
  JsonRpcProvider,
  Network,
  getAddress,
  isError,
  toBeHex,
  zeroPadValue,
  Wallet,
  type Provider,
  type Signer,
  type TransactionReceipt,
} from 'ethers';
import { AnchorError, type AnchorErrorCode } from './anchor-error.js';

/** 32 zero bytes: the `previousRoot` of the first anchor. */
export const ZERO_ROOT = `0x${'00'.repeat(32)}`;

/** The largest period id the contract accepts (uint64), as far as JavaScript numbers reach. */
const MAX_PERIOD_ID = Number.MAX_SAFE_INTEGER;

/** Receipt polling interval where no provider setting applies (deployment). */
const DEFAULT_POLL_MS = 20;

/** The parts of contracts/AnchorRegistry.json the runtime uses. */
export interface AnchorRegistryArtifact {
  contractName: string;
  sourceSha256: string;
  compiler: { version: string; evmVersion: string; optimizer: { enabled: boolean; runs: number } };
  abi: readonly unknown[];
  bytecode: string;
  deployedBytecode: string;
}

let artifact: AnchorRegistryArtifact | undefined;
let registryInterface: Interface | undefined;

/** Reads and checks the committed artifact once. Throws ARTIFACT_INVALID when it is unusable. */
export function loadAnchorRegistryArtifact(): AnchorRegistryArtifact {
  if (artifact !== undefined) return artifact;
  // Same relative path from src/anchor/ and from dist/anchor/.
  const url = new URL('../../contracts/AnchorRegistry.json', import.meta.url);
  let parsed: Partial<AnchorRegistryArtifact>;
  try {
    parsed = JSON.parse(readFileSync(url, 'utf8')) as Partial<AnchorRegistryArtifact>;
  } catch (error) {
    throw new AnchorError('ARTIFACT_INVALID', `cannot read ${url.pathname}; run \`npm run compile-contracts\``, {
      cause: error,
    });
  }
  if (
    parsed.contractName !== 'AnchorRegistry' ||
    !Array.isArray(parsed.abi) ||
    !/^0x[0-9a-f]+$/.test(parsed.bytecode ?? '') ||
    !/^0x[0-9a-f]+$/.test(parsed.deployedBytecode ?? '')
  ) {
    throw new AnchorError('ARTIFACT_INVALID', `${url.pathname} is not an AnchorRegistry artifact`);
  }
  artifact = parsed as AnchorRegistryArtifact;
  return artifact;
}

/** The contract's ABI as an ethers Interface (for decoding logs and errors elsewhere). */
export function anchorRegistryInterface(): Interface {
  registryInterface ??= new Interface(loadAnchorRegistryArtifact().abi as string[]);
  return registryInterface;
}

/**
 * The provider every anchor component uses. The options matter against a fast local node:
 * with ethers' defaults, back-to-back sends fail with "nonce has already been used" (cached
 * nonce) and batching makes each transaction about 3x slower (FINDINGS, Chain). The network is
 * fixed from configuration; {@link AnchorRegistryClient.connect} checks it against the node.
 */
export function createAnchorProvider(rpcUrl: string, chainId: number): JsonRpcProvider {
  if (!Number.isSafeInteger(chainId) || chainId < 1) {
    throw new AnchorError('INVALID_ARGUMENT', `chainId must be a positive integer, got ${chainId}`);
  }
  const network = Network.from(chainId);
  return new JsonRpcProvider(rpcUrl, network, {
    staticNetwork: true,
    cacheTimeout: -1,
    pollingInterval: 20,
    batchMaxCount: 1,
  });
}

/** Result of {@link deployAnchorRegistry}. */
export interface DeployedAnchorRegistry {
  address: string;
  txHash: string;
  blockNumber: number;
  blockHash: string;
  gasUsed: bigint;
}

/**
 * Deploys AnchorRegistry from `wallet` (connected to a provider) and waits for one
 * confirmation. The owner is `options.owner`, default the deploying account.
 */
export async function deployAnchorRegistry(
  wallet: Signer,
  options: { owner?: string } = {},
): Promise<DeployedAnchorRegistry> {
  const { abi, bytecode } = loadAnchorRegistryArtifact();
  const provider = wallet.provider;
  if (provider === null) throw new AnchorError('INVALID_ARGUMENT', 'the deploying signer has no provider');
  try {
    const owner = getAddress(options.owner ?? (await wallet.getAddress()));
    const factory = new ContractFactory(abi as string[], bytecode, wallet);
    const tx = await wallet.sendTransaction(await factory.getDeployTransaction(owner));
    const receipt = await pollReceipt(provider, tx.hash, 1, 120_000, DEFAULT_POLL_MS);
    if (receipt.status !== 1 || receipt.contractAddress === null) {
      throw new AnchorError('TX_REVERTED', `deployment ${tx.hash} failed`, { details: { txHash: tx.hash } });
    }
    return {
      address: receipt.contractAddress,
      txHash: receipt.hash,
      blockNumber: receipt.blockNumber,
      blockHash: receipt.blockHash,
      gasUsed: receipt.gasUsed,
    };
  } catch (error) {
    throw toAnchorError(error, 'deploy AnchorRegistry');
  }
}

/** A mined transaction, as {@link AnchorRegistryClient.waitForReceipt} reports it. */
export interface AnchorReceipt {
  txHash: string;
  blockNumber: number;
  blockHash: string;
  gasUsed: bigint;
}

/** A `PeriodAnchored` event found on chain. */
export interface AnchorEvent {
  periodId: number;
  root: string;
  previousRoot: string;
  txHash: string;
  blockNumber: number;
  blockHash: string;
  logIndex: number;
}

/** Options of {@link AnchorRegistryClient.connect}. */
export interface AnchorRegistryConnectOptions {
  rpcUrl: string;
  chainId: number;
  address: string;
  /** The center's private key (0x hex); without it the client is read-only. */
  privateKey?: string;
}

/** Typed access to one deployed AnchorRegistry. */
export class AnchorRegistryClient {
  /** Checksummed contract address. */
  readonly address: string;
  readonly provider: JsonRpcProvider;
  readonly signer: Signer | undefined;
  readonly #iface = anchorRegistryInterface();
  readonly #ownsProvider: boolean;

  /**
   * Wraps an existing provider (and signer, for writes). Prefer {@link connect}, which also
   * checks the chain id and that the contract is deployed.
   */
  constructor(options: { address: string; provider: JsonRpcProvider; signer?: Signer; ownsProvider?: boolean }) {
    this.address = checkedAddress(options.address, 'address');
    this.provider = options.provider;
    this.signer = options.signer;
    this.#ownsProvider = options.ownsProvider ?? false;
  }

  /**
   * Creates the provider, checks that the node serves `chainId` and has AnchorRegistry code
   * at `address`, and returns a client that owns the provider (see {@link close}).
   * Throws CHAIN_MISMATCH, CONTRACT_NOT_DEPLOYED or RPC_UNAVAILABLE.
   */
  static async connect(options: AnchorRegistryConnectOptions): Promise<AnchorRegistryClient> {
    const provider = createAnchorProvider(options.rpcUrl, options.chainId);
    try {
      const client = new AnchorRegistryClient({
        address: options.address,
        provider,
        ...(options.privateKey === undefined ? {} : { signer: new Wallet(options.privateKey, provider) }),
        ownsProvider: true,
      });
      await client.assertDeployed(options.chainId);
      return client;
    } catch (error) {
      provider.destroy();
      throw toAnchorError(error, 'connect to AnchorRegistry');
    }
  }

  /** Throws CHAIN_MISMATCH or CONTRACT_NOT_DEPLOYED unless the node is the expected one. */
  async assertDeployed(expectedChainId: number): Promise<void> {
    const [chainIdHex, code] = await this.#rpc('check deployment', async () =>
      Promise.all([this.provider.send('eth_chainId', []) as Promise<string>, this.provider.getCode(this.address)]),
    );
    const actual = Number(BigInt(chainIdHex));
    if (actual !== expectedChainId) {
      throw new AnchorError('CHAIN_MISMATCH', `the node serves chain ${actual}, configured ${expectedChainId}`, {
        details: { expected: expectedChainId, actual },
      });
    }
    if (code === '0x') {
      throw new AnchorError('CONTRACT_NOT_DEPLOYED', `no contract at ${this.address} on chain ${actual}`, {
        details: { address: this.address, chainId: actual },
      });
    }
  }

  /** Stops the provider's polling if this client created it. */
  close(): void {
    if (this.#ownsProvider) this.provider.destroy();
  }

  /** Id of the period anchored last; 0 before the first anchor. */
  async latestPeriod(): Promise<number> {
    return Number(await this.#view<bigint>('latestPeriod', []));
  }

  /** Root anchored last (0x hex); {@link ZERO_ROOT} before the first anchor. */
  async lastRoot(): Promise<string> {
    return this.#view<string>('lastRoot', []);
  }

  /** Root of `periodId` (0x hex); {@link ZERO_ROOT} if not anchored. */
  async rootOf(periodId: number): Promise<string> {
    validatePeriodLike(periodId, 'periodId');
    return this.#view<string>('rootOf', [periodId]);
  }

  /** The account allowed to anchor (checksummed). */
  async owner(): Promise<string> {
    return this.#view<string>('owner', []);
  }

  /** The proposed next owner, or the zero address. */
  async pendingOwner(): Promise<string> {
    return this.#view<string>('pendingOwner', []);
  }

  /**
   * Sends `anchor(periodId, root, previousRoot)` and returns the transaction hash without
   * waiting for it to be mined. The node simulates the call first (gas estimation), so the
   * contract's checks surface here as NOT_OWNER, PERIOD_NOT_INCREASING, PERIOD_ALREADY_ANCHORED,
   * PREVIOUS_ROOT_MISMATCH or ZERO_ROOT; NONCE_CONFLICT when `nonce` is already used.
   */
  async sendAnchor(
    periodId: number,
    root: string,
    previousRoot: string,
    options: { nonce?: number; gasLimit?: bigint } = {},
  ): Promise<string> {
    validatePeriodLike(periodId, 'periodId');
    const data = this.#iface.encodeFunctionData('anchor', [
      periodId,
      checkedBytes32(root, 'root'),
      checkedBytes32(previousRoot, 'previousRoot'),
    ]);
    return this.#send('anchor', data, options);
  }

  /**
   * Waits until `txHash` has `confirmations` confirmations (default 1), polling every
   * `pollIntervalMs` (default: the provider's polling interval). Throws TX_REVERTED for a mined
   * failure and TIMEOUT after `timeoutMs` (default 120 s).
   */
  async waitForReceipt(
    txHash: string,
    confirmations = 1,
    options: { timeoutMs?: number; pollIntervalMs?: number } = {},
  ): Promise<AnchorReceipt> {
    const receipt = await pollReceipt(
      this.provider,
      txHash,
      confirmations,
      options.timeoutMs ?? 120_000,
      options.pollIntervalMs ?? this.provider.pollingInterval,
    );
    if (receipt.status !== 1) {
      throw new AnchorError('TX_REVERTED', `transaction ${txHash} was mined but reverted`, {
        details: { txHash, blockNumber: receipt.blockNumber },
      });
    }
    return { txHash: receipt.hash, blockNumber: receipt.blockNumber, blockHash: receipt.blockHash, gasUsed: receipt.gasUsed };
  }

  /**
   * Finds the `PeriodAnchored` event of `periodId` (eth_getLogs on the indexed topic), or null.
   * Public nodes limit the block range: pass the deployment block as `fromBlock`.
   */
  async findAnchorEvent(periodId: number, options: { fromBlock?: number } = {}): Promise<AnchorEvent | null> {
    validatePeriodLike(periodId, 'periodId');
    const event = this.#iface.getEvent('PeriodAnchored');
    if (event === null) throw new AnchorError('ARTIFACT_INVALID', 'the ABI has no PeriodAnchored event');
    const logs = await this.#rpc('get PeriodAnchored logs', () =>
      this.provider.getLogs({
        address: this.address,
        topics: [event.topicHash, zeroPadValue(toBeHex(periodId), 32)],
        fromBlock: options.fromBlock ?? 0,
        toBlock: 'latest',
      }),
    );
    // A period is anchored at most once; after a reorg the node may still list a removed log.
    const log = logs.filter((entry) => !entry.removed).at(-1);
    if (log === undefined) return null;
    const parsed = this.#iface.parseLog(log);
    if (parsed === null) return null;
    return {
      periodId: Number(parsed.args.getValue('periodId') as bigint),
      root: parsed.args.getValue('root') as string,
      previousRoot: parsed.args.getValue('previousRoot') as string,
      txHash: log.transactionHash,
      blockNumber: log.blockNumber,
      blockHash: log.blockHash,
      logIndex: log.index,
    };
  }

  /** Owner only: proposes `newOwner` (the zero address cancels); returns the tx hash. */
  async transferOwnership(newOwner: string, options: { nonce?: number } = {}): Promise<string> {
    const data = this.#iface.encodeFunctionData('transferOwnership', [checkedAddress(newOwner, 'newOwner')]);
    return this.#send('transferOwnership', data, options);
  }

  /** Pending owner only: takes over the registry; returns the tx hash. */
  async acceptOwnership(options: { nonce?: number } = {}): Promise<string> {
    return this.#send('acceptOwnership', this.#iface.encodeFunctionData('acceptOwnership', []), options);
  }

  async #view<T>(name: string, args: unknown[]): Promise<T> {
    const data = this.#iface.encodeFunctionData(name, args);
    const result = await this.#rpc(name, () => this.provider.call({ to: this.address, data }));
    if (result === '0x') {
      throw new AnchorError('CONTRACT_NOT_DEPLOYED', `no contract at ${this.address}`, { details: { address: this.address } });
    }
    return this.#iface.decodeFunctionResult(name, result)[0] as T;
  }

  async #send(name: string, data: string, options: { nonce?: number; gasLimit?: bigint }): Promise<string> {
    const signer = this.signer;
    if (signer === undefined) throw new AnchorError('NO_SIGNER', `${name} needs a signer; this client is read-only`);
    const tx = await this.#rpc(name, () =>
      signer.sendTransaction({
        to: this.address,
        data,
        ...(options.nonce === undefined ? {} : { nonce: options.nonce }),
        ...(options.gasLimit === undefined ? {} : { gasLimit: options.gasLimit }),
      }),
    );
    return tx.hash;
  }

  async #rpc<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw toAnchorError(error, what);
    }
  }
}

/**
 * Polls for a receipt with `confirmations` confirmations. ethers' own `wait()` /
 * `waitForTransaction` check once and then wait for the next "block" event; on an automining
 * node no further block comes when the receipt was not there at that first look (seen under
 * load: a 60 s hang), so this asks again on a timer instead.
 */
async function pollReceipt(
  provider: Provider,
  txHash: string,
  confirmations: number,
  timeoutMs: number,
  intervalMs: number,
): Promise<TransactionReceipt> {
  if (!/^0x[0-9a-fA-F]{64}$/.test(txHash)) throw new AnchorError('INVALID_ARGUMENT', `not a transaction hash: ${txHash}`);
  if (!Number.isSafeInteger(confirmations) || confirmations < 1) {
    throw new AnchorError('INVALID_ARGUMENT', `confirmations must be a positive integer, got ${confirmations}`);
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const receipt = await provider.getTransactionReceipt(txHash);
      if (receipt !== null) {
        const head = confirmations === 1 ? receipt.blockNumber : await provider.getBlockNumber();
        if (head - receipt.blockNumber + 1 >= confirmations) return receipt;
      }
    } catch (error) {
      throw toAnchorError(error, 'wait for receipt');
    }
    if (Date.now() >= deadline) {
      throw new AnchorError('TIMEOUT', `no receipt with ${confirmations} confirmation(s) for ${txHash} within ${timeoutMs} ms`, {
        details: { txHash, confirmations },
      });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

const REVERT_CODES: Record<string, AnchorErrorCode> = {
  AnchorRegistryNotOwner: 'NOT_OWNER',
  AnchorRegistryNotPendingOwner: 'NOT_PENDING_OWNER',
  AnchorRegistryZeroOwner: 'ZERO_OWNER',
  AnchorRegistryZeroRoot: 'ZERO_ROOT',
  AnchorRegistryPeriodAlreadyAnchored: 'PERIOD_ALREADY_ANCHORED',
  AnchorRegistryPeriodNotIncreasing: 'PERIOD_NOT_INCREASING',
  AnchorRegistryPreviousRootMismatch: 'PREVIOUS_ROOT_MISMATCH',
};

// Transport failures that mean "the node is not there" rather than "the node said no".
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EAI_AGAIN', 'EPIPE']);

/**
 * Turns anything thrown by ethers or the transport into an {@link AnchorError}. Contract
 * reverts are decoded with the AnchorRegistry ABI (`iface.parseError(err.data)`), their
 * arguments put in `details`; the original error is the `cause`.
 */
export function toAnchorError(error: unknown, doing: string): AnchorError {
  if (error instanceof AnchorError) return error;
  const fail = (code: AnchorErrorCode, message: string, details: Record<string, unknown> = {}): AnchorError =>
    new AnchorError(code, `${doing}: ${message}`, { cause: error, details });

  if (isError(error, 'CALL_EXCEPTION')) {
    const data = error.data;
    const parsed = typeof data === 'string' && data.length >= 10 ? safeParseError(data) : null;
    if (parsed !== null) {
      const code = REVERT_CODES[parsed.name];
      const details: Record<string, unknown> = {};
      parsed.fragment.inputs.forEach((input, i) => {
        const value: unknown = parsed.args[i];
        details[input.name] = typeof value === 'bigint' ? Number(value) : value;
      });
      if (code !== undefined) return fail(code, `${parsed.name}(${Object.values(details).join(', ')})`, details);
    }
    return fail('CONTRACT_REVERTED', error.shortMessage, { data });
  }
  if (isError(error, 'NONCE_EXPIRED') || isError(error, 'REPLACEMENT_UNDERPRICED')) {
    return fail('NONCE_CONFLICT', error.shortMessage);
  }
  if (isError(error, 'INSUFFICIENT_FUNDS')) return fail('INSUFFICIENT_FUNDS', error.shortMessage);
  if (isError(error, 'TIMEOUT')) return fail('TIMEOUT', error.shortMessage);
  if (isError(error, 'NETWORK_ERROR') || isError(error, 'SERVER_ERROR')) return fail('RPC_UNAVAILABLE', error.shortMessage);
  if (isError(error, 'INVALID_ARGUMENT')) return fail('INVALID_ARGUMENT', error.shortMessage);
  for (let cause: unknown = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code !== undefined && UNREACHABLE_CODES.has(code)) return fail('RPC_UNAVAILABLE', cause.message);
  }
  const message = error instanceof Error ? error.message : String(error);
  // Nodes word nonce reuse differently and ethers does not map every wording.
  if (/nonce (too low|has already been used)|already known/i.test(message)) return fail('NONCE_CONFLICT', message);
  return fail('RPC_ERROR', message);
}

function safeParseError(data: string): ReturnType<Interface['parseError']> {
  try {
    return anchorRegistryInterface().parseError(data);
  } catch {
    return null;
  }
}

function validatePeriodLike(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > MAX_PERIOD_ID) {
    throw new AnchorError('INVALID_ARGUMENT', `${name} must be a non-negative safe integer, got ${value}`);
  }
}

function checkedBytes32(value: string, name: string): string {
  if (!/^0x[0-9a-fA-F]{64}$/.test(value)) {
    throw new AnchorError('INVALID_ARGUMENT', `${name} must be 32 bytes of 0x hex, got ${value}`);
  }
  return value.toLowerCase();
}

function checkedAddress(value: string, name: string): string {
  try {
    return getAddress(value);
  } catch (error) {
    throw new AnchorError('INVALID_ARGUMENT', `${name} is not an address: ${value}`, { cause: error });
  }
}
