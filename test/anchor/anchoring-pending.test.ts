/**
 * The center crashed (or the send timed out) after its anchor transaction reached the node but
 * before the hash was recorded: the row is `sending` without a hash while the transaction waits
 * in the node's pool. On a real anvil with automine off, the service must wait for that
 * transaction and record it, not send again and again (each resend reverts with
 * AnchorRegistryPeriodAlreadyAnchored against the pending state).
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { EvmAnchorChain, type AnchorChain } from '../../src/anchor/anchor-chain.js';
import { AnchorError } from '../../src/anchor/anchor-error.js';
import { ZERO_ROOT } from '../../src/anchor/anchor-registry.js';
import { AnchoringService } from '../../src/anchor/anchoring-service.js';
import { DEV_ONLY_ANVIL_ACCOUNT_0_PRIVATE_KEY } from '../../src/anchor/local-chain.js';
import { PERIOD_ANCHORED_TOPIC } from '../../src/core/anchor-abi.js';
import { insertAnchor, listAnchors } from '../../src/store/anchors-repository.js';
import { listAlarms } from '../../src/store/preservation-repository.js';
import { Store } from '../../src/store/store.js';
import { waitFor } from '../helpers/external-chain.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { randomRoot, startRegistryFixture, type RegistryFixture } from './registry-fixture.js';

let fixture: RegistryFixture;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  fixture = await startRegistryFixture();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await fixture?.close();
});

/** A store with period `id` sealed with `root`, chained to `previousRoot`; a chain client; a service. */
async function setUp(id: number, root: string, previousRoot: string) {
  const dir = makeTempDir();
  cleanups.push(() => dir.remove());
  const store = await Store.open({ file: `${dir.path}/db.sqlite` });
  cleanups.push(() => store.close());
  for (let p = 1; p < id; p++) {
    // Earlier periods: empty (not rooted), so they are not anchored.
    store.sqlite.exec(`INSERT INTO period (id, status, opened_at, sealed_at, leaf_count) VALUES (${p}, 'sealed', 't', 't', 0)`);
  }
  store.sqlite.exec(
    `INSERT INTO period (id, status, opened_at, sealed_at, leaf_count, root, previous_root)
     VALUES (${id}, 'sealed', 't', 't', 1, x'${root.slice(2)}', x'${previousRoot.slice(2)}')`,
  );
  const chain = new EvmAnchorChain({
    name: 'local',
    rpcUrl: fixture.chain.rpcUrl,
    publicRpcUrl: fixture.chain.rpcUrl,
    chainId: fixture.chain.chainId,
    contract: fixture.registry.address,
    deployBlock: fixture.registry.blockNumber,
    privateKey: DEV_ONLY_ANVIL_ACCOUNT_0_PRIVATE_KEY,
    confirmations: 1,
  });
  const lines: string[] = [];
  // A short poll makes any loop without a pause show up as thousands of rows within a second.
  const service = new AnchoringService({ store, chains: [chain], log: (line) => lines.push(line), pollMs: 20 });
  cleanups.push(() => service.stop());
  return { store, chain, service, lines };
}

async function events(periodId: number): Promise<number> {
  const logs = await fixture.provider.getLogs({ address: fixture.registry.address, topics: [PERIOD_ANCHORED_TOPIC], fromBlock: 0, toBlock: 'latest' });
  return logs.filter((log) => Number(BigInt(log.topics[1]!)) === periodId).length;
}

async function withAutomineOff<T>(run: () => Promise<T>): Promise<T> {
  await fixture.provider.send('evm_setAutomine', [false]);
  try {
    return await run();
  } finally {
    await fixture.provider.send('evm_setAutomine', [true]);
  }
}

it('records the pending transaction of a crashed send once it is mined, without sending again', async () => {
  const root = randomRoot();
  const { store, chain, service } = await setUp(1, root, ZERO_ROOT);
  await withAutomineOff(async () => {
    // The crash state: the nonce recorded, the transaction in the pool, its hash lost.
    const { pending: nonce } = await chain.nonces();
    insertAnchor(store, { periodId: 1, chain: 'local', chainId: chain.settings.chainId, contract: chain.settings.contract, nonce, now: new Date().toISOString() });
    const txHash = await chain.sendAnchor(1, root, ZERO_ROOT, nonce);

    service.start();
    await new Promise((resolve) => setTimeout(resolve, 1500)); // ~75 polls while nothing is mined
    expect(listAnchors(store, 1).map((a) => a.status)).toEqual(['sending']);
    expect(await events(1)).toBe(0);

    await fixture.provider.send('evm_mine', []);
    const confirmed = await waitFor('the anchor confirmed', async () => listAnchors(store, 1).find((a) => a.status === 'confirmed'));
    expect(confirmed.tx_hash).toBe(txHash);
    expect(listAnchors(store, 1).map((a) => a.status)).toEqual(['confirmed']);
    expect(await events(1)).toBe(1);
  });
});

it('adopts a pending anchor found by a fresh attempt, with a bounded number of rows', async () => {
  const root = randomRoot();
  const previousRoot = await fixture.client.lastRoot();
  const { store, chain, service, lines } = await setUp(2, root, previousRoot);
  await withAutomineOff(async () => {
    // The attempt that sent the pooled transaction ended up `failed` (as the old code marked it),
    // so the service starts a new attempt, whose send reverts against the pending state.
    const { pending: nonce } = await chain.nonces();
    const row = insertAnchor(store, { periodId: 2, chain: 'local', chainId: chain.settings.chainId, contract: chain.settings.contract, nonce, now: new Date().toISOString() });
    store.sqlite.exec(`UPDATE anchor SET status = 'failed' WHERE id = ${row.id}`);
    const txHash = await chain.sendAnchor(2, root, previousRoot, nonce);

    service.start();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(listAnchors(store, 2).length).toBeLessThanOrEqual(2);
    expect(lines.join('\n')).toMatch(/period 2 is anchored by a transaction not mined yet.*AnchorRegistryPeriodAlreadyAnchored/);

    await fixture.provider.send('evm_mine', []);
    const confirmed = await waitFor('the anchor confirmed', async () => listAnchors(store, 2).find((a) => a.status === 'confirmed'), 70_000);
    expect(confirmed.tx_hash).toBe(txHash);
    expect(listAnchors(store, 2).map((a) => a.status)).toEqual(['failed', 'confirmed']);
    expect(await events(2)).toBe(1);
  });
}, 90_000);

it('backs off before each new attempt after a failed one', async () => {
  const dir = makeTempDir();
  cleanups.push(() => dir.remove());
  const store = await Store.open({ file: `${dir.path}/db.sqlite` });
  cleanups.push(() => store.close());
  store.sqlite.exec(`INSERT INTO period (id, status, opened_at, sealed_at, leaf_count, root, previous_root) VALUES (1, 'sealed', 't', 't', 1, x'${'11'.repeat(32)}', x'${'00'.repeat(32)}')`);
  // A node that refuses every send as a nonce clash: each attempt fails at once.
  let sends = 0;
  let nonce = 0;
  const chain = {
    settings: { name: 'fake', chainId: 1, contract: '0xc', confirmations: 1 },
    headNumber: async () => 1,
    blockHashAt: async () => '0xb1',
    rootOf: async () => ZERO_ROOT,
    lastRoot: async () => ZERO_ROOT,
    nonces: async () => ({ pending: nonce, latest: nonce }),
    sendAnchor: async () => {
      sends++;
      nonce++; // something else took it
      throw new AnchorError('NONCE_CONFLICT', 'nonce too low');
    },
    close: () => {},
  } as unknown as AnchorChain;
  const service = new AnchoringService({ store, chains: [chain], log: () => {}, pollMs: 20 });
  cleanups.push(() => service.stop());
  service.start();
  await new Promise((resolve) => setTimeout(resolve, 1500));
  // 20, 40, 80, … ms between attempts: about 7 in 1.5 s (one per 20 ms poll would be ~75).
  expect(sends).toBeGreaterThanOrEqual(3);
  expect(listAnchors(store, 1).length).toBeLessThanOrEqual(8);
  expect(listAnchors(store, 1).every((a) => a.status === 'failed')).toBe(true);
});

it('raises an alarm while a chain keeps failing, and clears it when anchoring works again', async () => {
  const dir = makeTempDir();
  cleanups.push(() => dir.remove());
  const store = await Store.open({ file: `${dir.path}/db.sqlite` });
  cleanups.push(() => store.close());
  let down = true;
  const chain = {
    settings: { name: 'fake', chainId: 1, contract: '0xc', confirmations: 1 },
    headNumber: async () => {
      if (down) throw new AnchorError('RPC_UNAVAILABLE', 'read block number: connect ECONNREFUSED 127.0.0.1:8545');
      return 1;
    },
    blockHashAt: async () => '0xb1',
    close: () => {},
  } as unknown as AnchorChain;
  const service = new AnchoringService({ store, chains: [chain], log: () => {}, pollMs: 10, alarmAfterMs: 200 });
  cleanups.push(() => service.stop());
  service.start();
  const alarm = await waitFor('the alarm', async () => listAlarms(store, { limit: 10, includeCleared: false }).find((a) => a.kind === 'anchoring-failing'), 10_000);
  expect(alarm.subject).toBe('fake');
  expect(alarm.message).toContain('ECONNREFUSED');
  down = false;
  await waitFor('the alarm cleared', async () => (listAlarms(store, { limit: 10, includeCleared: false }).length === 0 ? true : undefined), 10_000);
  expect(listAlarms(store, { limit: 10, includeCleared: true })[0]?.cleared_at).not.toBeNull();
});
