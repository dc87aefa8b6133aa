/**
 * contracts/AnchorRegistry.sol against a real anvil: access control, ordering, the previous-root
 * chain, two-step ownership, events, views, and the gas an anchor costs.
 */
import { Wallet, ZeroAddress, type HDNodeWallet, type Log } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnchorError, type AnchorErrorCode } from '../../src/anchor/anchor-error.js';
import {
  AnchorRegistryClient,
  ZERO_ROOT,
  anchorRegistryInterface,
  createAnchorProvider,
  deployAnchorRegistry,
} from '../../src/anchor/anchor-registry.js';
import { randomRoot, rejection, startRegistryFixture, type RegistryFixture } from '../anchor/registry-fixture.js';

let fx: RegistryFixture;

beforeAll(async () => {
  fx = await startRegistryFixture();
});

afterAll(async () => {
  await fx?.close();
});

async function expectCode(promise: Promise<unknown>, code: AnchorErrorCode): Promise<AnchorError> {
  const error = await rejection(promise);
  expect(error.code, error.message).toBe(code);
  return error;
}

/** Decoded events of a mined transaction. */
async function eventsOf(txHash: string): Promise<{ name: string; args: Record<string, unknown> }[]> {
  const receipt = await fx.provider.getTransactionReceipt(txHash);
  const iface = anchorRegistryInterface();
  return (receipt?.logs ?? []).flatMap((log: Log) => {
    const parsed = iface.parseLog(log);
    if (parsed === null) return [];
    const args: Record<string, unknown> = {};
    parsed.fragment.inputs.forEach((input, i) => (args[input.name] = parsed.args[i]));
    return [{ name: parsed.name, args }];
  });
}

describe('AnchorRegistry', () => {
  const roots: Record<number, string> = {};

  it('starts empty, owned by the deployer', async () => {
    expect(await fx.client.latestPeriod()).toBe(0);
    expect(await fx.client.lastRoot()).toBe(ZERO_ROOT);
    expect(await fx.client.rootOf(1)).toBe(ZERO_ROOT);
    expect(await fx.client.owner()).toBe(fx.owner.address);
    expect(await fx.client.pendingOwner()).toBe(ZeroAddress);
    const events = await eventsOf(fx.registry.txHash);
    expect(events).toEqual([{ name: 'OwnershipTransferred', args: { previousOwner: ZeroAddress, newOwner: fx.owner.address } }]);
  });

  it('refuses the zero address as initial owner', async () => {
    await expectCode(deployAnchorRegistry(fx.owner, { owner: ZeroAddress }), 'ZERO_OWNER');
  });

  it('lets only the owner anchor', async () => {
    const stranger = await fx.fundedWallet();
    const error = await expectCode(fx.clientFor(stranger).sendAnchor(1, randomRoot(), ZERO_ROOT), 'NOT_OWNER');
    expect(error.details).toEqual({ caller: stranger.address });
  });

  it('refuses a zero root', async () => {
    await expectCode(fx.client.sendAnchor(1, ZERO_ROOT, ZERO_ROOT), 'ZERO_ROOT');
  });

  it('refuses period 0 and a non-zero previous root before the first anchor', async () => {
    const error = await expectCode(fx.client.sendAnchor(0, randomRoot(), ZERO_ROOT), 'PERIOD_NOT_INCREASING');
    expect(error.details).toEqual({ periodId: 0, latest: 0 });
    const bogus = randomRoot();
    const mismatch = await expectCode(fx.client.sendAnchor(1, randomRoot(), bogus), 'PREVIOUS_ROOT_MISMATCH');
    expect(mismatch.details).toEqual({ expected: ZERO_ROOT, given: bogus });
  });

  it('accepts any first period id >= 1 and emits PeriodAnchored with its arguments', async () => {
    roots[5] = randomRoot();
    const txHash = await fx.client.sendAnchor(5, roots[5], ZERO_ROOT);
    const receipt = await fx.client.waitForReceipt(txHash);
    expect(await eventsOf(txHash)).toEqual([
      { name: 'PeriodAnchored', args: { periodId: 5n, root: roots[5], previousRoot: ZERO_ROOT } },
    ]);
    expect(await fx.client.latestPeriod()).toBe(5);
    expect(await fx.client.lastRoot()).toBe(roots[5]);
    expect(await fx.client.rootOf(5)).toBe(roots[5]);
    expect(await fx.client.rootOf(4)).toBe(ZERO_ROOT);
    expect(await fx.client.findAnchorEvent(5)).toEqual({
      periodId: 5,
      root: roots[5],
      previousRoot: ZERO_ROOT,
      txHash,
      blockNumber: receipt.blockNumber,
      blockHash: receipt.blockHash,
      logIndex: 0,
    });
  });

  it('refuses lower ids and a second anchor of the same period', async () => {
    const lower = await expectCode(fx.client.sendAnchor(3, randomRoot(), roots[5]!), 'PERIOD_NOT_INCREASING');
    expect(lower.details).toEqual({ periodId: 3, latest: 5 });
    const again = await expectCode(fx.client.sendAnchor(5, randomRoot(), roots[5]!), 'PERIOD_ALREADY_ANCHORED');
    expect(again.details).toEqual({ periodId: 5 });
    // Even with the exact same arguments: a period is anchored once.
    await expectCode(fx.client.sendAnchor(5, roots[5]!, ZERO_ROOT), 'PERIOD_ALREADY_ANCHORED');
  });

  it('requires previousRoot to be the last anchored root, and allows gaps in ids', async () => {
    const wrong = randomRoot();
    const error = await expectCode(fx.client.sendAnchor(6, randomRoot(), wrong), 'PREVIOUS_ROOT_MISMATCH');
    expect(error.details).toEqual({ expected: roots[5], given: wrong });

    roots[6] = randomRoot();
    await fx.client.waitForReceipt(await fx.client.sendAnchor(6, roots[6], roots[5]!));
    roots[9] = randomRoot();
    const txHash = await fx.client.sendAnchor(9, roots[9], roots[6]);
    await fx.client.waitForReceipt(txHash);
    expect(await eventsOf(txHash)).toEqual([
      { name: 'PeriodAnchored', args: { periodId: 9n, root: roots[9], previousRoot: roots[6] } },
    ]);
    expect(await fx.client.latestPeriod()).toBe(9);
    expect(await fx.client.lastRoot()).toBe(roots[9]);
    expect(await fx.client.rootOf(6)).toBe(roots[6]);
    expect((await fx.client.findAnchorEvent(6))?.previousRoot).toBe(roots[5]);
    expect(await fx.client.findAnchorEvent(7)).toBeNull();
  });

  it('reports a mined revert as TX_REVERTED when simulation is skipped', async () => {
    // A fixed gas limit skips eth_estimateGas, so the failing call is mined.
    const txHash = await fx.client.sendAnchor(9, randomRoot(), roots[9]!, { gasLimit: 100_000n });
    await expectCode(fx.client.waitForReceipt(txHash), 'TX_REVERTED');
  });

  it('reports a reused nonce as NONCE_CONFLICT', async () => {
    const used = (await fx.owner.getNonce()) - 1;
    await expectCode(fx.client.sendAnchor(10, randomRoot(), roots[9]!, { nonce: used }), 'NONCE_CONFLICT');
  });

  describe('two-step ownership transfer', () => {
    let next: HDNodeWallet;
    let nextClient: AnchorRegistryClient;

    beforeAll(async () => {
      next = await fx.fundedWallet();
      nextClient = fx.clientFor(next);
    });

    it('only the owner can start a transfer', async () => {
      const error = await expectCode(nextClient.transferOwnership(next.address), 'NOT_OWNER');
      expect(error.details).toEqual({ caller: next.address });
    });

    it('a started transfer changes nothing until accepted', async () => {
      const txHash = await fx.client.transferOwnership(next.address);
      await fx.client.waitForReceipt(txHash);
      expect(await eventsOf(txHash)).toEqual([
        { name: 'OwnershipTransferStarted', args: { previousOwner: fx.owner.address, newOwner: next.address } },
      ]);
      expect(await fx.client.owner()).toBe(fx.owner.address);
      expect(await fx.client.pendingOwner()).toBe(next.address);
      // The old key still anchors while the new one has not taken over.
      roots[10] = randomRoot();
      await fx.client.waitForReceipt(await fx.client.sendAnchor(10, roots[10], roots[9]!));
      await expectCode(nextClient.sendAnchor(11, randomRoot(), roots[10]), 'NOT_OWNER');
    });

    it('only the pending owner can accept', async () => {
      const stranger = await fx.fundedWallet();
      const error = await expectCode(fx.clientFor(stranger).acceptOwnership(), 'NOT_PENDING_OWNER');
      expect(error.details).toEqual({ caller: stranger.address });
      await expectCode(fx.client.acceptOwnership(), 'NOT_PENDING_OWNER');
    });

    it('after acceptance the new owner anchors and the old one has no rights left', async () => {
      const txHash = await nextClient.acceptOwnership();
      await nextClient.waitForReceipt(txHash);
      expect(await eventsOf(txHash)).toEqual([
        { name: 'OwnershipTransferred', args: { previousOwner: fx.owner.address, newOwner: next.address } },
      ]);
      expect(await fx.client.owner()).toBe(next.address);
      expect(await fx.client.pendingOwner()).toBe(ZeroAddress);

      await expectCode(fx.client.sendAnchor(11, randomRoot(), roots[10]!), 'NOT_OWNER');
      await expectCode(fx.client.transferOwnership(fx.owner.address), 'NOT_OWNER');
      roots[11] = randomRoot();
      await nextClient.waitForReceipt(await nextClient.sendAnchor(11, roots[11], roots[10]!));
      expect(await fx.client.latestPeriod()).toBe(11);
    });

    it('a pending transfer can be cancelled with the zero address', async () => {
      const candidate = await fx.fundedWallet();
      await nextClient.waitForReceipt(await nextClient.transferOwnership(candidate.address));
      await nextClient.waitForReceipt(await nextClient.transferOwnership(ZeroAddress));
      expect(await fx.client.pendingOwner()).toBe(ZeroAddress);
      await expectCode(fx.clientFor(candidate).acceptOwnership(), 'NOT_PENDING_OWNER');
      expect(await fx.client.owner()).toBe(next.address);
    });
  });

  describe('client guards', () => {
    it('refuses malformed roots and ids before touching the node', async () => {
      await expectCode(fx.client.sendAnchor(12, '0x1234', ZERO_ROOT), 'INVALID_ARGUMENT');
      await expectCode(fx.client.sendAnchor(1.5, randomRoot(), ZERO_ROOT), 'INVALID_ARGUMENT');
    });

    it('a read-only client cannot send', async () => {
      const readOnly = new AnchorRegistryClient({ address: fx.registry.address, provider: fx.provider });
      await expectCode(readOnly.sendAnchor(12, randomRoot(), ZERO_ROOT), 'NO_SIGNER');
    });

    it('connect checks the chain id and the contract code', async () => {
      const { rpcUrl, chainId } = fx.chain;
      const ok = await AnchorRegistryClient.connect({ rpcUrl, chainId, address: fx.registry.address });
      expect(await ok.latestPeriod()).toBe(11);
      ok.close();
      const wrongChain = await expectCode(
        AnchorRegistryClient.connect({ rpcUrl, chainId: 1, address: fx.registry.address }),
        'CHAIN_MISMATCH',
      );
      expect(wrongChain.details).toEqual({ expected: 1, actual: chainId });
      await expectCode(
        AnchorRegistryClient.connect({ rpcUrl, chainId, address: Wallet.createRandom().address }),
        'CONTRACT_NOT_DEPLOYED',
      );
    });

    it('an unreachable node is RPC_UNAVAILABLE', async () => {
      // Port 1 is privileged and never served here: the connection is refused at once.
      const provider = createAnchorProvider('http://127.0.0.1:1', 31337);
      const client = new AnchorRegistryClient({ address: fx.registry.address, provider });
      await expectCode(client.latestPeriod(), 'RPC_UNAVAILABLE');
      provider.destroy();
    });
  });
});

describe('AnchorRegistry gas', () => {
  let gx: RegistryFixture;

  beforeAll(async () => {
    gx = await startRegistryFixture();
  });

  afterAll(async () => {
    await gx?.close();
  });

  /** EIP-2028 calldata cost: 4 gas per zero byte, 16 per non-zero byte. */
  function calldataGas(data: string): bigint {
    let gas = 0n;
    for (let i = 2; i < data.length; i += 2) gas += data.slice(i, i + 2) === '00' ? 4n : 16n;
    return gas;
  }

  it('costs the same execution gas for every anchor after the first, whatever the id or history', async () => {
    const iface = anchorRegistryInterface();
    const rows: { periodId: number; gasUsed: bigint; calldata: bigint; execution: bigint }[] = [];
    let previous = ZERO_ROOT;
    // Consecutive ids, a jump, and ids that need more bytes: only calldata bytes may change the cost.
    const ids = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 300, 301, 70_000, 70_001, 2 ** 40, 2 ** 40 + 1, 2 ** 52];
    for (const periodId of ids) {
      const root = randomRoot();
      const txHash = await gx.client.sendAnchor(periodId, root, previous);
      const { gasUsed } = await gx.client.waitForReceipt(txHash);
      const calldata = calldataGas(iface.encodeFunctionData('anchor', [periodId, root, previous]));
      rows.push({ periodId, gasUsed, calldata, execution: gasUsed - 21_000n - calldata });
      previous = root;
    }
    const [first, ...rest] = rows;
    const executions = new Set(rest.map((row) => row.execution));
    console.log(
      [
        `AnchorRegistry deployment: ${gx.registry.gasUsed} gas`,
        `anchor #1 (period 1): ${first!.gasUsed} gas (execution ${first!.execution})`,
        ...rest.map((r) => `anchor period ${r.periodId}: ${r.gasUsed} gas = 21000 + calldata ${r.calldata} + execution ${r.execution}`),
      ].join('\n'),
    );
    expect(executions.size).toBe(1);
    // The first anchor pays the same execution; it is cheaper only because previousRoot is 32 zero bytes.
    expect(first!.execution).toBe(rest[0]!.execution);
    expect(Number(rest[0]!.gasUsed)).toBeLessThan(56_000);
  });
});
