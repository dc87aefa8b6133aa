/**
 * The embedded chain the center runs: when its anvil dies while the center runs, it is started
 * again from its state file on the same URL, with the registry still there.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { setUpLocalChain, type LocalChainSetup } from '../../src/anchor/local-chain-setup.js';
import { waitFor } from '../helpers/external-chain.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const dir = makeTempDir();
let setup: LocalChainSetup | undefined;
afterAll(async () => {
  await setup?.chain.stop();
  dir.remove();
});

async function rpc(url: string, method: string, params: unknown[] = []): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

function isRunning(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

it('starts a local chain that died again, on the same URL, from its state file', async () => {
  const lines: string[] = [];
  setup = await setUpLocalChain({ dataDir: join(dir.path, 'data'), port: 0, confirmations: 1, log: (line) => lines.push(line) });
  const { chain, settings } = setup;
  const firstPid = chain.pid;
  // Let anvil dump the deployment (every second) before it is killed.
  await waitFor('the deployment dumped', async () => (readFileSync(join(dir.path, 'data', 'chain', 'anvil-state.json'), 'utf8').includes(settings.contract.slice(2).toLowerCase()) ? true : undefined), 10_000);

  chain.kill('SIGKILL');
  await waitFor('anvil started again', async () => (chain.pid !== firstPid ? true : undefined), 20_000);
  expect(isRunning(firstPid)).toBe(false);
  expect(chain.rpcUrl).toBe(settings.rpcUrl);
  expect(await rpc(settings.rpcUrl, 'eth_getCode', [settings.contract, 'latest'])).not.toBe('0x');
  expect(lines.join('\n')).toMatch(new RegExp(`anvil \\(pid ${firstPid}\\) exited with SIGKILL while the center runs`));

  // stop() stops the running one and no restart follows.
  const secondPid = chain.pid;
  await chain.stop();
  expect(await chain.exited).toEqual({ code: 0, signal: null });
  await new Promise((resolve) => setTimeout(resolve, 700));
  expect(isRunning(secondPid)).toBe(false);
  expect(chain.pid).toBe(secondPid);
});
