import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkAnchor } from '../../src/core/anchor-check.js';
import { startExternalChain, waitFor, type ExternalChain } from '../helpers/external-chain.js';
import { api, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// A real center process anchoring on a real anvil the test controls: every scenario ends with
// each sealed period anchored exactly once on the live chain, and the center's record of it
// checkable by anyone with JSON-RPC.
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

async function setUp(confirmations: number): Promise<{ chain: ExternalChain; server: ServerProcess; dataDir: string; env: Record<string, string> }> {
  const dir = makeTempDir();
  cleanups.push(async () => dir.remove());
  const chain = await startExternalChain(dir.path, { confirmations });
  cleanups.push(() => chain.stop());
  const dataDir = join(dir.path, 'data');
  const env = { ARCHIVE_SEAL_CHAINS: chain.chainsFile };
  const server = await startServerProcess(dataDir, env);
  cleanups.push(() => server.stop());
  return { chain, server, dataDir, env };
}

async function registerAndSeal(server: ServerProcess, tag: string, n = 3): Promise<any> {
  const entries = Array.from({ length: n }, (_, i) => ({ sha256: createHash('sha256').update(`${tag}-${i}`).digest('hex'), category: 'agency.documents' }));
  expect((await api(server.url, server.adminToken, 'POST', '/v1/registrations/batch', { entries })).status).toBe(201);
  const sealed = await api(server.url, server.adminToken, 'POST', '/v1/periods/seal');
  expect(sealed.status).toBe(201);
  return sealed.body;
}

const anchored = (server: ServerProcess, periodId: number) =>
  waitFor(`period ${periodId} anchored`, async () => {
    const p = (await api(server.url, undefined, 'GET', `/v1/periods/${periodId}`)).body;
    return p.anchored ? p : undefined;
  });

/** Every sealed period anchored once on the live chain, and each recorded anchor checks out. */
async function expectAnchoredExactlyOnce(chain: ExternalChain, server: ServerProcess, periodIds: number[]) {
  const events = await chain.anchorEvents();
  for (const id of periodIds) {
    expect(events.get(id), `PeriodAnchored events of period ${id}`).toBe(1);
    const period = (await api(server.url, undefined, 'GET', `/v1/periods/${id}`)).body;
    const live = period.anchors.filter((a: any) => a.status === 'confirmed');
    expect(live).toHaveLength(1);
    const report = await checkAnchor((method, params) => chain.rpc(method, params), {
      chainId: live[0].chainId,
      contract: live[0].contract,
      periodId: id,
      root: `0x${period.root}`,
      previousRoot: `0x${period.previousRoot}`,
      txHash: live[0].txHash,
      blockNumber: live[0].blockNumber,
      blockHash: live[0].blockHash,
    });
    expect(report.status, JSON.stringify(report)).toBe('ok');
  }
  expect(events.size).toBe(periodIds.length);
}

describe('anchoring sealed periods', () => {
  it('anchors each sealed period with its timestamp, and publishes where to check', async () => {
    const { chain, server } = await setUp(1);
    const first = await registerAndSeal(server, 'a');
    const p1 = await anchored(server, first.id);
    expect(p1.timestamp).toMatchObject({ authority: 'built-in', token: expect.any(String) });
    // An empty period is neither rooted nor anchored; the next root chains to period 1.
    await api(server.url, server.adminToken, 'POST', '/v1/registrations/batch', { entries: [{ sha256: 'ab'.repeat(32), category: 'agency.documents' }] });
    const second = await registerAndSeal(server, 'b');
    expect(second.previousRoot).toBe(p1.root);
    await anchored(server, second.id);
    await expectAnchoredExactlyOnce(chain, server, [1, 2]);
    const chains = (await api(server.url, undefined, 'GET', '/v1/chains')).body.chains;
    expect(chains).toEqual([{ name: 'testnet', chainId: 31337, contract: chain.contract, rpcUrl: chain.rpcUrl, deployBlock: expect.any(Number), confirmations: 1 }]);
  });

  it('survives the chain node killed mid-anchor and restarted', async () => {
    const { chain, server } = await setUp(1);
    await registerAndSeal(server, 'pre');
    await anchored(server, 1);
    await chain.crash();
    const sealed = await registerAndSeal(server, 'during-outage');
    await new Promise((r) => setTimeout(r, 1500)); // the center retries against a dead node
    expect((await api(server.url, undefined, 'GET', `/v1/periods/${sealed.id}`)).body.anchored).toBe(false);
    await chain.restart();
    await anchored(server, sealed.id);
    await expectAnchoredExactlyOnce(chain, server, [1, 2]);
  });

  it('finishes after the service restarts between send and confirmation', async () => {
    const { chain, server, dataDir, env } = await setUp(3);
    await registerAndSeal(server, 'x');
    // Sent and mined, but with 1 of 3 confirmations: kill the center right there.
    await waitFor('the anchor mined', async () => {
      const a = (await api(server.url, undefined, 'GET', '/v1/periods/1')).body.anchors[0];
      return a?.blockNumber ? a : undefined;
    });
    await server.kill();
    for (let i = 0; i < 3; i++) await chain.rpc('evm_mine');
    const again = await startServerProcess(dataDir, env);
    cleanups.push(() => again.stop());
    const p = await anchored(again, 1);
    expect(p.anchors.filter((a: any) => a.status === 'confirmed')[0].confirmations).toBeGreaterThanOrEqual(3);
    await expectAnchoredExactlyOnce(chain, again, [1]);
  });

  it('anchors again when the chain loses the block that held the anchor', async () => {
    const { chain, server } = await setUp(1);
    const snapshot = await chain.rpc('evm_snapshot');
    await registerAndSeal(server, 'lost');
    const before = await anchored(server, 1);
    const lostBlock = before.anchors[0].blockHash;
    await chain.rpc('evm_revert', [snapshot]); // the anchor's block is gone
    await chain.rpc('evm_mine'); // a different block at that height
    const after = await waitFor('re-anchored', async () => {
      const p = (await api(server.url, undefined, 'GET', '/v1/periods/1')).body;
      const live = p.anchors.find((a: any) => a.status === 'confirmed');
      return live && live.blockHash !== lostBlock ? p : undefined;
    });
    expect(after.anchors.map((a: any) => a.status)).toEqual(['reorged', 'confirmed']);
    await expectAnchoredExactlyOnce(chain, server, [1]);
  });
});

describe('anchoring when the node drops the transaction or the nonce is taken', () => {
  it('sends again after a drop, and starts over when another transaction took the nonce', async () => {
    const dir = makeTempDir();
    cleanups.push(async () => dir.remove());
    const chain = await startExternalChain(dir.path, { confirmations: 1 });
    cleanups.push(() => chain.stop());
    await chain.rpc('evm_setAutomine', [false]); // transactions wait in the pool until mined by hand
    const env = { ARCHIVE_SEAL_CHAINS: chain.chainsFile, ARCHIVE_SEAL_ANCHOR_RESEND_AFTER_MS: '1000' };
    const server = await startServerProcess(join(dir.path, 'data'), env);
    cleanups.push(() => server.stop());

    // 1. Dropped: the node forgets the anchor; the center sends it again with the same nonce.
    await registerAndSeal(server, 'dropped');
    const first = await waitFor('first send', async () => (await api(server.url, undefined, 'GET', '/v1/periods/1')).body.anchors.find((a: any) => a.txHash));
    await chain.rpc('anvil_dropTransaction', [first.txHash]);
    await waitFor('sent again', async () => ((await chain.rpc('txpool_content')) as any).pending && Object.keys(((await chain.rpc('txpool_content')) as any).pending).length > 0 ? true : undefined, 15_000);
    await chain.rpc('evm_mine');
    await anchored(server, 1);

    // 2. Nonce taken: the anchor of period 2 is dropped and another transaction of the center's
    //    account is mined with its nonce; the center sees the nonce used, and sends anew.
    await registerAndSeal(server, 'clash');
    const second = await waitFor('second send', async () => (await api(server.url, undefined, 'GET', '/v1/periods/2')).body.anchors.find((a: any) => a.txHash));
    await chain.rpc('anvil_dropTransaction', [second.txHash]);
    const owner = (await chain.rpc('eth_accounts'))[0];
    await chain.rpc('eth_sendTransaction', [{ from: owner, to: owner, value: '0x1', nonce: `0x${(await nonceOf(chain, owner)).toString(16)}` }]);
    await chain.rpc('evm_mine');
    await waitFor('a new attempt in the pool', async () => {
      const pending = ((await chain.rpc('txpool_content')) as any).pending;
      return pending && Object.keys(pending).length > 0 ? true : undefined;
    }, 15_000);
    await chain.rpc('evm_mine');
    const p2 = await anchored(server, 2);
    expect(p2.anchors.map((a: any) => a.status)).toContain('failed');
    await expectAnchoredExactlyOnce(chain, server, [1, 2]);
  });
});

async function nonceOf(chain: ExternalChain, address: string): Promise<number> {
  return Number(BigInt(await chain.rpc('eth_getTransactionCount', [address, 'latest'])));
}
