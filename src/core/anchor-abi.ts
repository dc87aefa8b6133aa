/**
 * The slice of the AnchorRegistry ABI a verifier needs, encoded by hand so the browser verifier
 * carries no ethers. Selectors and topics are keccak-256 of the canonical signatures
 * (Solidity ABI spec, "Function Selector" and "Events").
 */
/** Canonical signatures of the AnchorRegistry members the verifier and the README refer to. */
export const ANCHOR_REGISTRY_SIGNATURES = {
  anchor: 'anchor(uint64,bytes32,bytes32)',
  rootOf: 'rootOf(uint64)',
  latestPeriod: 'latestPeriod()',
  lastRoot: 'lastRoot()',
  owner: 'owner()',
  periodAnchored: 'PeriodAnchored(uint64,bytes32,bytes32)',
} as const;

// The keccak-256 values below are written out, not computed at load: keccak in JavaScript cost a
// short-lived `archive-seal verify` some 10 ms of cold start. test/core/anchor-abi.test.ts
// computes each from its signature.

/** topics[0] of every `PeriodAnchored` log (keccak-256 of its signature); topics[1] is the period id as a 32-byte word. */
export const PERIOD_ANCHORED_TOPIC = '0x1303f2d48196364e4b0109f8ab158aa2183ae2dd12833c39b5be412ddd15523c';
/** 4-byte selector of `anchor(uint64,bytes32,bytes32)`. */
export const ANCHOR_SELECTOR = '0x7494b1af';
/** 4-byte selector of `rootOf(uint64)`. */
export const ROOT_OF_SELECTOR = '0x9d7384d9';
/** 4-byte selector of `latestPeriod()`. */
export const LATEST_PERIOD_SELECTOR = '0x259acfb4';
/** 4-byte selector of `lastRoot()`. */
export const LAST_ROOT_SELECTOR = '0xb58166f2';

const WORD_HEX = /^0x[0-9a-fA-F]{64}$/;

/**
 * A non-negative integer as one ABI word (32 bytes, big-endian), lowercase 0x hex. Period ids
 * are uint64; JavaScript numbers are exact up to 2^53, which is all a period counter needs.
 */
export function encodeUintWord(value: number): string {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`not a non-negative safe integer: ${value}`);
  return `0x${value.toString(16).padStart(64, '0')}`;
}

/** Calldata of `rootOf(periodId)`. */
export function encodeRootOfCall(periodId: number): string {
  return `${ROOT_OF_SELECTOR}${encodeUintWord(periodId).slice(2)}`;
}

/** True for 0x-prefixed hex of exactly `byteLength` bytes (either case). */
export function isPrefixedHex(value: unknown, byteLength: number): value is string {
  return typeof value === 'string' && value.length === 2 + 2 * byteLength && /^0x[0-9a-fA-F]*$/.test(value);
}

/**
 * The single bytes32 returned by a view such as `rootOf`, lowercase; null when the return data
 * is not exactly one word (e.g. "0x" from an address without code).
 */
export function decodeBytes32Result(data: unknown): string | null {
  return typeof data === 'string' && WORD_HEX.test(data) ? data.toLowerCase() : null;
}

/** `data` of a `PeriodAnchored` log (root ‖ previousRoot), or null if it is not two words. */
export function decodePeriodAnchoredData(data: unknown): { root: string; previousRoot: string } | null {
  if (typeof data !== 'string' || !/^0x[0-9a-fA-F]{128}$/.test(data)) return null;
  const hex = data.toLowerCase();
  return { root: `0x${hex.slice(2, 66)}`, previousRoot: `0x${hex.slice(66)}` };
}
