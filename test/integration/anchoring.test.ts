import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PERIOD_ANCHORED_TOPIC } from '../../src/core/anchor-abi.js';
import { checkAnchor } from '../../src/core/anchor-check.js';
import { jsonRpcOverHttp } from '../../src/core/json-rpc.js';
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
    // The node dumps its state every second: crashed sooner, it may come back without the
    // registry's deployment (seen: "no contract at …"), a different outcome than this one.
    await new Promise((r) => setTimeout(r, 1200));
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

describe('the embedded chain when a process of the center dies', () => {
  /** Pids of the live anvil processes whose command line names `stateFile` (from /proc). */
  function anvilsOn(stateFile: string): number[] {
    const pids: number[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
        const state = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.[0];
        if (state !== 'Z' && argv[0]?.endsWith('anvil') && argv.includes(stateFile)) pids.push(Number(entry));
      } catch {
        // exited meanwhile
      }
    }
    return pids;
  }

  async function freePort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    return port;
  }

  const rpcAt = (url: string, method: string, params: unknown[]): Promise<any> => jsonRpcOverHttp(url, fetch)(method, params);

  /** A data directory for a center on the embedded chain; no anvil on its state file outlives the test. */
  function embeddedChainDir(): { dataDir: string; stateFile: string } {
    const dir = makeTempDir();
    const dataDir = join(dir.path, 'data');
    const stateFile = join(dataDir, 'chain', 'anvil-state.json');
    cleanups.push(async () => dir.remove());
    cleanups.push(async () => {
      for (const pid of anvilsOn(stateFile)) process.kill(pid, 'SIGKILL');
    });
    return { dataDir, stateFile };
  }

  /** PeriodAnchored events per period id on the center's local chain. */
  async function localAnchorEvents(server: ServerProcess): Promise<Map<number, number>> {
    const [chain] = (await api(server.url, undefined, 'GET', '/v1/chains')).body.chains;
    const logs = (await rpcAt(chain.rpcUrl, 'eth_getLogs', [{ address: chain.contract, topics: [PERIOD_ANCHORED_TOPIC], fromBlock: '0x0', toBlock: 'latest' }])) as { topics: string[] }[];
    const counts = new Map<number, number>();
    for (const log of logs) {
      const period = Number(BigInt(log.topics[1]!));
      counts.set(period, (counts.get(period) ?? 0) + 1);
    }
    return counts;
  }

  // A fixed port: the orphan held it ("Address already in use"). Port 0: the orphan and the new
  // anvil both dumped into one state file.
  it.each([['a fixed port'], ['port 0']])('stops the orphaned anvil and keeps the anchors (%s)', async (mode) => {
    const { dataDir, stateFile } = embeddedChainDir();
    const env = { ARCHIVE_SEAL_CHAINS: 'local', ARCHIVE_SEAL_LOCAL_CHAIN_PORT: mode === 'port 0' ? '0' : String(await freePort()) };

    const first = await startServerProcess(dataDir, env);
    cleanups.push(() => first.stop());
    await registerAndSeal(first, 'before-crash');
    const before = await anchored(first, 1);
    const [orphan] = anvilsOn(stateFile);
    expect(orphan).toBeDefined();

    await first.kill();
    expect(anvilsOn(stateFile)).toEqual([orphan]); // nothing of the center ran to stop it

    const second = await startServerProcess(dataDir, env);
    cleanups.push(() => second.stop());
    const running = anvilsOn(stateFile);
    expect(running).toHaveLength(1);
    expect(running).not.toContain(orphan);
    expect(second.output()).toContain(`(pid ${orphan}, its parent crashed) is stopped`);

    // The anchor made before the crash stands: same block, one attempt, one event.
    const after = (await api(second.url, undefined, 'GET', '/v1/periods/1')).body;
    expect(after.anchored).toBe(true);
    expect(after.anchors).toEqual(before.anchors);
    const [chain] = (await api(second.url, undefined, 'GET', '/v1/chains')).body.chains;
    const block = await rpcAt(chain.rpcUrl, 'eth_getBlockByNumber', [`0x${before.anchors[0].blockNumber.toString(16)}`, false]);
    expect(block.hash).toBe(before.anchors[0].blockHash);

    // And the chain goes on from there: period 2 anchors once, and survives an orderly restart.
    await registerAndSeal(second, 'after-crash');
    await anchored(second, 2);
    expect(await localAnchorEvents(second)).toEqual(new Map([[1, 1], [2, 1]]));
    await second.stop();
    expect(anvilsOn(stateFile)).toEqual([]);

    const third = await startServerProcess(dataDir, env);
    cleanups.push(() => third.stop());
    await new Promise((r) => setTimeout(r, 1500)); // a few anchoring passes
    for (const id of [1, 2]) {
      const p = (await api(third.url, undefined, 'GET', `/v1/periods/${id}`)).body;
      expect(p.anchors.map((a: any) => a.status), `period ${id}`).toEqual(['confirmed']);
    }
    expect(await localAnchorEvents(third)).toEqual(new Map([[1, 1], [2, 1]]));
    await third.stop();
    expect(anvilsOn(stateFile)).toEqual([]);
  });

  it('starts the embedded anvil again when it dies while the center runs', async () => {
    const { dataDir, stateFile } = embeddedChainDir();
    const server = await startServerProcess(dataDir, { ARCHIVE_SEAL_CHAINS: 'local' });
    cleanups.push(() => server.stop());
    await registerAndSeal(server, 'before');
    const before = await anchored(server, 1);
    await new Promise((r) => setTimeout(r, 1200)); // anvil dumps its state every second

    const [anvil] = anvilsOn(stateFile);
    process.kill(anvil!, 'SIGKILL');
    await waitFor('anvil started again', async () => (anvilsOn(stateFile).some((pid) => pid !== anvil) ? true : undefined));
    expect(server.output()).toContain(`anvil (pid ${anvil}) exited with SIGKILL while the center runs`);

    await registerAndSeal(server, 'after');
    await anchored(server, 2);
    expect((await api(server.url, undefined, 'GET', '/v1/periods/1')).body.anchors).toEqual(before.anchors);
    expect(await localAnchorEvents(server)).toEqual(new Map([[1, 1], [2, 1]]));
    await server.stop();
    expect(anvilsOn(stateFile)).toEqual([]);
  });
});
