/**
 * src/core/anchor-check.ts against a real anvil, through plain fetch JSON-RPC (as the browser
 * verifier calls it): one real anchor passes; each kind of wrong anchor fails with its code.
 */
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AnchorRegistryClient,
  ZERO_ROOT,
  anchorRegistryInterface,
  deployAnchorRegistry,
} from '../../src/anchor/anchor-registry.js';
import {
  ANCHOR_SELECTOR,
  LAST_ROOT_SELECTOR,
  LATEST_PERIOD_SELECTOR,
  PERIOD_ANCHORED_TOPIC,
  ROOT_OF_SELECTOR,
  encodeRootOfCall,
} from '../../src/core/anchor-abi.js';
import { jsonRpcOverHttp } from '../../src/core/json-rpc.js';
import { checkAnchor, type AnchorToCheck, type JsonRpcRequest } from '../../src/core/anchor-check.js';
import { randomRoot, startRegistryFixture, type RegistryFixture } from './registry-fixture.js';

let fx: RegistryFixture;
let request: JsonRpcRequest;
/** Anchors as a certificate would record them, by period. */
const anchors: Record<number, AnchorToCheck> = {};

/** JSON-RPC over fetch, with the requester the browser verifier uses. */
const fetchRequest = (rpcUrl: string): JsonRpcRequest => jsonRpcOverHttp(rpcUrl, fetch);

async function anchorPeriod(client: AnchorRegistryClient, periodId: number, previousRoot: string): Promise<AnchorToCheck> {
  const root = randomRoot();
  const receipt = await client.waitForReceipt(await client.sendAnchor(periodId, root, previousRoot));
  return {
    chainId: fx.chain.chainId,
    contract: client.address,
    periodId,
    root,
    previousRoot,
    txHash: receipt.txHash,
    blockNumber: receipt.blockNumber,
    blockHash: receipt.blockHash,
  };
}

beforeAll(async () => {
  fx = await startRegistryFixture();
  request = fetchRequest(fx.chain.rpcUrl);
  anchors[1] = await anchorPeriod(fx.client, 1, ZERO_ROOT);
  anchors[2] = await anchorPeriod(fx.client, 2, anchors[1].root);
});

afterAll(async () => {
  await fx?.close();
});

describe('checkAnchor', () => {
  it('passes for a real anchor, step by step', async () => {
    const report = await checkAnchor(request, anchors[2]!);
    expect(report.status).toBe('ok');
    expect(report.code).toBe('OK');
    expect(report.steps.map((s) => [s.step, s.status])).toEqual([
      ['input', 'ok'],
      ['chain', 'ok'],
      ['contract-root', 'ok'],
      ['canonical-block', 'ok'],
      ['transaction', 'ok'],
      ['event', 'ok'],
    ]);
    const block = (await request('eth_getBlockByNumber', [`0x${anchors[2]!.blockNumber.toString(16)}`, false])) as { timestamp: string };
    expect(report.details.blockTimestamp).toBe(Number(block.timestamp));
    expect(report.details.confirmations).toBe(1);
    // Case of hex digits is not significant.
    const upper = { ...anchors[1]!, root: anchors[1]!.root.toUpperCase().replace('0X', '0x'), contract: fx.registry.address.toLowerCase() };
    expect((await checkAnchor(request, upper)).code).toBe('OK');
  });

  it("fails with ANCHOR_EVENT_MISMATCH for another period's transaction", async () => {
    const { txHash, blockNumber, blockHash } = anchors[2]!;
    const report = await checkAnchor(request, { ...anchors[1]!, txHash, blockNumber, blockHash });
    expect(report.status).toBe('failed');
    expect(report.code).toBe('ANCHOR_EVENT_MISMATCH');
    expect(report.message).toContain('period 2');
    expect(report.steps.at(-1)).toMatchObject({ step: 'event', status: 'failed' });
  });

  it('fails with ANCHOR_BLOCK_MISMATCH when the transaction is not in the recorded block', async () => {
    const { blockNumber, blockHash } = anchors[2]!;
    const report = await checkAnchor(request, { ...anchors[1]!, blockNumber, blockHash });
    expect(report.code).toBe('ANCHOR_BLOCK_MISMATCH');
  });

  it('fails with ANCHOR_ROOT_MISMATCH for a wrong root, and skips the later steps', async () => {
    const report = await checkAnchor(request, { ...anchors[2]!, root: randomRoot() });
    expect(report.code).toBe('ANCHOR_ROOT_MISMATCH');
    expect(report.message).toContain(anchors[2]!.root);
    expect(report.steps.map((s) => s.status)).toEqual(['ok', 'ok', 'failed', 'skipped', 'skipped', 'skipped']);
  });

  it('fails with ANCHOR_EVENT_MISMATCH for a wrong previous root', async () => {
    const report = await checkAnchor(request, { ...anchors[2]!, previousRoot: randomRoot() });
    expect(report.code).toBe('ANCHOR_EVENT_MISMATCH');
  });

  it('fails with ANCHOR_EVENT_MISSING for the transaction of another contract or call', async () => {
    // Another registry anchors the same period and root: right event, wrong emitter.
    const other = await deployAnchorRegistry(fx.owner);
    const impostor = new AnchorRegistryClient({ address: other.address, provider: fx.provider, signer: fx.owner });
    const receipt = await impostor.waitForReceipt(await impostor.sendAnchor(2, anchors[2]!.root, ZERO_ROOT));
    const fromOther = await checkAnchor(request, {
      ...anchors[2]!,
      txHash: receipt.txHash,
      blockNumber: receipt.blockNumber,
      blockHash: receipt.blockHash,
    });
    expect(fromOther.code).toBe('ANCHOR_EVENT_MISSING');

    // A call to the right contract that anchors nothing.
    const transfer = await fx.client.waitForReceipt(await fx.client.transferOwnership(fx.owner.address));
    const noEvent = await checkAnchor(request, {
      ...anchors[2]!,
      txHash: transfer.txHash,
      blockNumber: transfer.blockNumber,
      blockHash: transfer.blockHash,
    });
    expect(noEvent.code).toBe('ANCHOR_EVENT_MISSING');
  });

  it('fails with ANCHOR_CHAIN_MISMATCH for another chain id, before asking anything else', async () => {
    const report = await checkAnchor(request, { ...anchors[2]!, chainId: 1 });
    expect(report.code).toBe('ANCHOR_CHAIN_MISMATCH');
    expect(report.steps.map((s) => s.status)).toEqual(['ok', 'failed', 'skipped', 'skipped', 'skipped', 'skipped']);
  });

  it('fails with ANCHOR_NOT_FOUND for an unanchored period or an address without the contract', async () => {
    expect((await checkAnchor(request, { ...anchors[2]!, periodId: 3 })).code).toBe('ANCHOR_NOT_FOUND');
    const nowhere = await checkAnchor(request, { ...anchors[2]!, contract: Wallet.createRandom().address });
    expect(nowhere.code).toBe('ANCHOR_NOT_FOUND');
    expect(nowhere.message).toContain('no AnchorRegistry');
  });

  it('fails with ANCHOR_TX_NOT_FOUND for an unknown transaction hash', async () => {
    expect((await checkAnchor(request, { ...anchors[2]!, txHash: randomRoot() })).code).toBe('ANCHOR_TX_NOT_FOUND');
  });

  it('fails with ANCHOR_BLOCK_REORGED when the recorded block left the canonical chain', async () => {
    // Anchor period 3, take a snapshot of the record, rewind the chain and anchor the same root
    // again one block later: the contract agrees, but the recorded block is gone.
    const snapshot = await request('evm_snapshot', []);
    const lost = await anchorPeriod(fx.client, 3, anchors[2]!.root);
    expect(await request('evm_revert', [snapshot])).toBe(true);
    await request('evm_mine', []);
    const receipt = await fx.client.waitForReceipt(await fx.client.sendAnchor(3, lost.root, anchors[2]!.root));
    expect(receipt.blockNumber).toBe(lost.blockNumber + 1);

    const report = await checkAnchor(request, lost);
    expect(report.code).toBe('ANCHOR_BLOCK_REORGED');
    expect(report.steps.find((s) => s.step === 'contract-root')?.status).toBe('ok');
  });

  it('turns RPC failures and nonsense into ANCHOR_RPC_ERROR instead of throwing', async () => {
    const down = await checkAnchor(fetchRequest('http://127.0.0.1:1'), anchors[2]!);
    expect(down.status).toBe('failed');
    expect(down.code).toBe('ANCHOR_RPC_ERROR');
    expect(down.message).toContain('eth_chainId failed');

    const nonsense = await checkAnchor(async () => 42, anchors[2]!);
    expect(nonsense.code).toBe('ANCHOR_RPC_ERROR');

    // A node that answers the chain id, then throws something that is not an Error.
    const flaky: JsonRpcRequest = async (method, params) => {
      if (method === 'eth_chainId') return request(method, params);
      throw 'boom';
    };
    const report = await checkAnchor(flaky, anchors[2]!);
    expect(report.code).toBe('ANCHOR_RPC_ERROR');
    expect(report.message).toContain('boom');
  });

  it('fails with ANCHOR_INVALID_INPUT for a malformed record without calling the node', async () => {
    let calls = 0;
    const counting: JsonRpcRequest = async (method, params) => {
      calls++;
      return request(method, params);
    };
    const report = await checkAnchor(counting, { ...anchors[2]!, root: '0x1234', periodId: 0 });
    expect(report.code).toBe('ANCHOR_INVALID_INPUT');
    expect(report.message).toContain('periodId, root');
    expect(calls).toBe(0);
  });
});

describe('hand-made ABI constants', () => {
  it('match the compiled contract', () => {
    const iface = anchorRegistryInterface();
    expect(PERIOD_ANCHORED_TOPIC).toBe(iface.getEvent('PeriodAnchored')?.topicHash);
    expect(ANCHOR_SELECTOR).toBe(iface.getFunction('anchor')?.selector);
    expect(ROOT_OF_SELECTOR).toBe(iface.getFunction('rootOf')?.selector);
    expect(LATEST_PERIOD_SELECTOR).toBe(iface.getFunction('latestPeriod')?.selector);
    expect(LAST_ROOT_SELECTOR).toBe(iface.getFunction('lastRoot')?.selector);
    expect(encodeRootOfCall(2 ** 40 + 7)).toBe(iface.encodeFunctionData('rootOf', [2 ** 40 + 7]));
  });
});
