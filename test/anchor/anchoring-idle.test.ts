import { afterEach, expect, it } from 'vitest';
import type { AnchorChain } from '../../src/anchor/anchor-chain.js';
import { AnchoringService } from '../../src/anchor/anchoring-service.js';
import { Store } from '../../src/store/store.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const dir = makeTempDir();
afterEach(() => dir.remove());

it('re-checks confirmed anchors when the chain head moves, not on every idle pass', async () => {
  const store = await Store.open({ file: `${dir.path}/db.sqlite` });
  store.sqlite.exec(`
    INSERT INTO period (id, status, opened_at, sealed_at, leaf_count, root, previous_root) VALUES (1, 'sealed', 't', 't', 1, x'${'11'.repeat(32)}', x'${'00'.repeat(32)}');
    INSERT INTO anchor (period_id, chain, chain_id, contract, status, tx_hash, nonce, block_number, block_hash, block_time, confirmations, attempts, created_at, updated_at)
      VALUES (1, 'fake', 1, '0xc', 'confirmed', '0xt', 0, 5, '0xb5', 't', 1, 1, 't', 't');`);
  let head = { number: 7, hash: '0xb7' };
  const anchoredBlockLookups: number[] = [];
  const chain = {
    settings: { name: 'fake', chainId: 1, contract: '0xc' },
    headNumber: async () => head.number,
    blockHashAt: async (n: number) => {
      if (n === head.number) return head.hash;
      anchoredBlockLookups.push(n);
      return '0xb5';
    },
    close: () => {},
  } as unknown as AnchorChain;
  const service = new AnchoringService({ store, chains: [chain], log: () => {} });
  for (let i = 0; i < 5; i++) expect(await service.pass(chain)).toBe(false);
  expect(anchoredBlockLookups).toEqual([5]); // the first pass only
  head = { number: 8, hash: '0xb8' };
  await service.pass(chain);
  expect(anchoredBlockLookups).toEqual([5, 5]);
  store.close();
});
