import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { id } from 'ethers';
import { describe, expect, it } from 'vitest';
import { ANCHOR_REGISTRY_SIGNATURES as SIG, ANCHOR_SELECTOR, LAST_ROOT_SELECTOR, LATEST_PERIOD_SELECTOR, PERIOD_ANCHORED_TOPIC, ROOT_OF_SELECTOR } from '../../src/core/anchor-abi.js';

// The selectors and the event topic are written out in src/core/anchor-abi.ts (not computed at
// load): each must be the keccak-256 of its canonical signature (Solidity ABI spec), by noble and
// by ethers alike.
const keccakHex = (text: string) => `0x${bytesToHex(keccak_256(utf8ToBytes(text)))}`;

describe('the AnchorRegistry ABI constants', () => {
  it('are keccak-256 of their signatures', () => {
    const expected: [string, string][] = [
      [PERIOD_ANCHORED_TOPIC, keccakHex(SIG.periodAnchored)],
      [ANCHOR_SELECTOR, keccakHex(SIG.anchor).slice(0, 10)],
      [ROOT_OF_SELECTOR, keccakHex(SIG.rootOf).slice(0, 10)],
      [LATEST_PERIOD_SELECTOR, keccakHex(SIG.latestPeriod).slice(0, 10)],
      [LAST_ROOT_SELECTOR, keccakHex(SIG.lastRoot).slice(0, 10)],
    ];
    for (const [constant, computed] of expected) expect(constant).toBe(computed);
    expect(PERIOD_ANCHORED_TOPIC).toBe(id(SIG.periodAnchored));
    expect(ROOT_OF_SELECTOR).toBe(id(SIG.rootOf).slice(0, 10));
  });
});
