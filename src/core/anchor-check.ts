/**
 * Checks a certificate's anchor against an EVM node through any JSON-RPC `request` function
 * (EIP-1193 style), so the server, the CLI and the browser verifier share it. Pure: no I/O of
 * its own, no ethers. Never throws: every outcome, an unreachable node included, is a report.
 */
import {
  PERIOD_ANCHORED_TOPIC,
  decodeBytes32Result,
  decodePeriodAnchoredData,
  encodeRootOfCall,
  encodeUintWord,
  isPrefixedHex,
} from './anchor-abi.js';

/** Sends one JSON-RPC call and resolves with its `result`; rejects on transport or RPC error. */
export type JsonRpcRequest = (method: string, params: unknown[]) => Promise<unknown>;

/** The anchor as a certificate records it. Hex values are 0x-prefixed, either case. */
export interface AnchorToCheck {
  chainId: number;
  /** AnchorRegistry address. */
  contract: string;
  periodId: number;
  root: string;
  previousRoot: string;
  txHash: string;
  blockNumber: number;
  blockHash: string;
}

/** Outcome codes; `OK` only when every step passed. */
export type AnchorCheckCode =
  | 'OK'
  | 'ANCHOR_INVALID_INPUT'
  | 'ANCHOR_CHAIN_MISMATCH'
  /** No root for this period at this contract (or no contract at all). */
  | 'ANCHOR_NOT_FOUND'
  | 'ANCHOR_ROOT_MISMATCH'
  /** The recorded block is no longer the canonical block at its height. */
  | 'ANCHOR_BLOCK_REORGED'
  /** The node knows no transaction with the recorded hash. */
  | 'ANCHOR_TX_NOT_FOUND'
  /** The transaction was mined but reverted. */
  | 'ANCHOR_TX_FAILED'
  /** The transaction is not in the recorded block. */
  | 'ANCHOR_BLOCK_MISMATCH'
  /** The transaction emitted no PeriodAnchored event from this contract. */
  | 'ANCHOR_EVENT_MISSING'
  /** It did, but for another period, root or previous root. */
  | 'ANCHOR_EVENT_MISMATCH'
  | 'ANCHOR_RPC_ERROR';

/** The steps, in the order they run. */
export type AnchorCheckStepName = 'input' | 'chain' | 'contract-root' | 'canonical-block' | 'transaction' | 'event';

/** One step of the report; steps after the first failure are `skipped`. */
export interface AnchorCheckStep {
  step: AnchorCheckStepName;
  status: 'ok' | 'failed' | 'skipped';
  message: string;
}

/** Result of {@link checkAnchor}. */
export interface AnchorCheckReport {
  status: 'ok' | 'failed';
  code: AnchorCheckCode;
  message: string;
  details: {
    chainId: number;
    contract: string;
    periodId: number;
    txHash: string;
    blockNumber: number;
    blockHash: string;
    /** The block's timestamp (seconds since the epoch), once the block was read. */
    blockTimestamp?: number;
    /** Blocks on top of the anchor's block, itself included, when the check passed. */
    confirmations?: number;
  };
  steps: AnchorCheckStep[];
}

const STEP_ORDER: readonly AnchorCheckStepName[] = ['input', 'chain', 'contract-root', 'canonical-block', 'transaction', 'event'];

/** A failed step, carried out of the step functions by exception and turned into the report. */
class StepFailure {
  constructor(
    readonly code: Exclude<AnchorCheckCode, 'OK'>,
    readonly message: string,
  ) {}
}

interface RpcReceipt {
  status?: unknown;
  blockHash?: unknown;
  blockNumber?: unknown;
  logs?: unknown;
}

interface RpcLog {
  address?: unknown;
  topics?: unknown;
  data?: unknown;
  removed?: unknown;
}

/**
 * Checks, in order: the node serves `anchor.chainId`; the contract holds `anchor.root` for
 * `anchor.periodId` (eth_call rootOf); the recorded block is still canonical at its height; the
 * recorded transaction succeeded in that block; and it emitted `PeriodAnchored(periodId, root,
 * previousRoot)` from the contract. Stops at the first failure.
 */
export async function checkAnchor(request: JsonRpcRequest, anchor: AnchorToCheck): Promise<AnchorCheckReport> {
  const details: AnchorCheckReport['details'] = {
    chainId: anchor.chainId,
    contract: anchor.contract,
    periodId: anchor.periodId,
    txHash: anchor.txHash,
    blockNumber: anchor.blockNumber,
    blockHash: anchor.blockHash,
  };
  const steps: AnchorCheckStep[] = [];
  let receipt: RpcReceipt | undefined;

  const call = async (method: string, params: unknown[]): Promise<unknown> => {
    try {
      return await request(method, params);
    } catch (error) {
      throw new StepFailure('ANCHOR_RPC_ERROR', `${method} failed: ${describe(error)}`);
    }
  };

  const run: Record<AnchorCheckStepName, () => Promise<string>> = {
    input: async () => {
      const problems: string[] = [];
      if (!Number.isSafeInteger(anchor.chainId) || anchor.chainId < 1) problems.push('chainId');
      if (!isPrefixedHex(anchor.contract, 20)) problems.push('contract');
      if (!Number.isSafeInteger(anchor.periodId) || anchor.periodId < 1) problems.push('periodId');
      if (!isPrefixedHex(anchor.root, 32)) problems.push('root');
      if (!isPrefixedHex(anchor.previousRoot, 32)) problems.push('previousRoot');
      if (!isPrefixedHex(anchor.txHash, 32)) problems.push('txHash');
      if (!Number.isSafeInteger(anchor.blockNumber) || anchor.blockNumber < 0) problems.push('blockNumber');
      if (!isPrefixedHex(anchor.blockHash, 32)) problems.push('blockHash');
      if (problems.length > 0) throw new StepFailure('ANCHOR_INVALID_INPUT', `malformed anchor fields: ${problems.join(', ')}`);
      return 'the anchor record is well formed';
    },

    chain: async () => {
      const actual = parseQuantity(await call('eth_chainId', []));
      if (actual === null) throw new StepFailure('ANCHOR_RPC_ERROR', 'eth_chainId returned no quantity');
      if (actual !== anchor.chainId) {
        throw new StepFailure('ANCHOR_CHAIN_MISMATCH', `the node serves chain ${actual}, the anchor is on chain ${anchor.chainId}`);
      }
      return `the node serves chain ${actual}`;
    },

    'contract-root': async () => {
      const result = await call('eth_call', [{ to: anchor.contract, data: encodeRootOfCall(anchor.periodId) }, 'latest']);
      const onChain = decodeBytes32Result(result);
      if (onChain === null) {
        // "0x" is what a node answers for an address without code.
        throw new StepFailure('ANCHOR_NOT_FOUND', `no AnchorRegistry at ${anchor.contract} (rootOf returned ${String(result)})`);
      }
      if (/^0x0{64}$/.test(onChain)) {
        throw new StepFailure('ANCHOR_NOT_FOUND', `period ${anchor.periodId} is not anchored at ${anchor.contract}`);
      }
      if (onChain !== anchor.root.toLowerCase()) {
        throw new StepFailure('ANCHOR_ROOT_MISMATCH', `the contract holds root ${onChain} for period ${anchor.periodId}, not ${anchor.root.toLowerCase()}`);
      }
      return `the contract holds this root for period ${anchor.periodId}`;
    },

    'canonical-block': async () => {
      const block = await call('eth_getBlockByNumber', [encodeQuantity(anchor.blockNumber), false]);
      const hash = isRecord(block) && typeof block['hash'] === 'string' ? block['hash'].toLowerCase() : null;
      if (hash !== anchor.blockHash.toLowerCase()) {
        throw new StepFailure(
          'ANCHOR_BLOCK_REORGED',
          hash === null
            ? `the node has no block ${anchor.blockNumber}`
            : `block ${anchor.blockNumber} is now ${hash}, not the recorded ${anchor.blockHash.toLowerCase()}`,
        );
      }
      const timestamp = isRecord(block) ? parseQuantity(block['timestamp']) : null;
      if (timestamp !== null) details.blockTimestamp = timestamp;
      return `block ${anchor.blockNumber} is canonical`;
    },

    transaction: async () => {
      const result = await call('eth_getTransactionReceipt', [anchor.txHash]);
      if (!isRecord(result)) throw new StepFailure('ANCHOR_TX_NOT_FOUND', `the node has no receipt for ${anchor.txHash}`);
      receipt = result as RpcReceipt;
      const inBlock = typeof receipt.blockHash === 'string' ? receipt.blockHash.toLowerCase() : null;
      const inNumber = parseQuantity(receipt.blockNumber);
      if (inBlock !== anchor.blockHash.toLowerCase() || inNumber !== anchor.blockNumber) {
        throw new StepFailure(
          'ANCHOR_BLOCK_MISMATCH',
          `the transaction is in block ${String(inNumber)} (${String(inBlock)}), not the recorded block ${anchor.blockNumber}`,
        );
      }
      if (parseQuantity(receipt.status) !== 1) throw new StepFailure('ANCHOR_TX_FAILED', `transaction ${anchor.txHash} reverted`);
      return 'the transaction succeeded in the recorded block';
    },

    event: async () => {
      const logs = Array.isArray(receipt?.logs) ? (receipt.logs as RpcLog[]) : [];
      const contract = anchor.contract.toLowerCase();
      const ours = logs.filter(
        (log) =>
          isRecord(log) &&
          log.removed !== true &&
          typeof log.address === 'string' &&
          log.address.toLowerCase() === contract &&
          Array.isArray(log.topics) &&
          typeof log.topics[0] === 'string' &&
          log.topics[0].toLowerCase() === PERIOD_ANCHORED_TOPIC,
      );
      if (ours.length === 0) {
        throw new StepFailure('ANCHOR_EVENT_MISSING', `transaction ${anchor.txHash} emitted no PeriodAnchored event from ${anchor.contract}`);
      }
      const periodTopic = encodeUintWord(anchor.periodId);
      const root = anchor.root.toLowerCase();
      const previousRoot = anchor.previousRoot.toLowerCase();
      const found = ours.map((log) => {
        const topic = (log.topics as unknown[])[1];
        return { period: decodeBytes32Result(topic), data: decodePeriodAnchoredData(log.data) };
      });
      if (found.some((e) => e.period === periodTopic && e.data?.root === root && e.data.previousRoot === previousRoot)) {
        return `PeriodAnchored(${anchor.periodId}, root, previousRoot) was emitted by ${anchor.contract}`;
      }
      const seen = found
        .map((e) => `period ${e.period === null ? '?' : BigInt(e.period).toString()}, root ${e.data?.root ?? '?'}, previous ${e.data?.previousRoot ?? '?'}`)
        .join('; ');
      throw new StepFailure(
        'ANCHOR_EVENT_MISMATCH',
        `the transaction anchored ${seen}; expected period ${anchor.periodId}, root ${root}, previous ${previousRoot}`,
      );
    },
  };

  for (const name of STEP_ORDER) {
    try {
      steps.push({ step: name, status: 'ok', message: await run[name]() });
    } catch (error) {
      const failure = error instanceof StepFailure ? error : new StepFailure('ANCHOR_RPC_ERROR', `unexpected response: ${describe(error)}`);
      steps.push({ step: name, status: 'failed', message: failure.message });
      for (const rest of STEP_ORDER.slice(STEP_ORDER.indexOf(name) + 1)) {
        steps.push({ step: rest, status: 'skipped', message: `not checked: ${name} failed` });
      }
      return { status: 'failed', code: failure.code, message: failure.message, details, steps };
    }
  }

  // How deep the anchor is buried; informative only, so a failure here does not fail the check.
  try {
    const head = parseQuantity(await request('eth_blockNumber', []));
    if (head !== null && head >= anchor.blockNumber) details.confirmations = head - anchor.blockNumber + 1;
  } catch {
    // The anchor itself was verified; the depth is just not reported.
  }
  return {
    status: 'ok',
    code: 'OK',
    message: `period ${anchor.periodId} is anchored on chain ${anchor.chainId} at ${anchor.contract} in block ${anchor.blockNumber}`,
    details,
    steps,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** A JSON-RPC quantity ("0x1a") as a number, or null when it is not one or not exact. */
function parseQuantity(value: unknown): number | null {
  if (typeof value !== 'string' || !/^0x[0-9a-fA-F]{1,64}$/.test(value)) return null;
  const n = BigInt(value);
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : null;
}

/** JSON-RPC quantity encoding: 0x-prefixed hex without leading zeros. */
function encodeQuantity(value: number): string {
  return `0x${value.toString(16)}`;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
