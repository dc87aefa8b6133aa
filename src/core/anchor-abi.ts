/**
 * The slice of the AnchorRegistry ABI a verifier needs, encoded by hand so the browser verifier
 * carries no ethers. Selectors and topics are keccak-256 of the canonical signatures
 * (Solidity ABI spec, "Function Selector" and "Events").
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';

/** Canonical signatures of the AnchorRegistry members the verifier and the README refer to. */
export const ANCHOR_REGISTRY_SIGNATURES = {
  anchor: 'anchor(uint64,bytes32,bytes32)',
  rootOf: 'rootOf(uint64)',
  latestPeriod: 'latestPeriod()',
  lastRoot: 'lastRoot()',
  owner: 'owner()',
  periodAnchored: 'PeriodAnchored(uint64,bytes32,bytes32)',
} as const;

function keccakHex(text: string): string {
  return `0x${bytesToHex(keccak_256(utf8ToBytes(text)))}`;
}

/** topics[0] of every `PeriodAnchored` log; topics[1] is the period id as a 32-byte word. */
export const PERIOD_ANCHORED_TOPIC = keccakHex(ANCHOR_REGISTRY_SIGNATURES.periodAnchored);
/** 4-byte selector of `anchor(uint64,bytes32,bytes32)`. */
export const ANCHOR_SELECTOR = keccakHex(ANCHOR_REGISTRY_SIGNATURES.anchor).slice(0, 10);
/** 4-byte selector of `rootOf(uint64)`. */
export const ROOT_OF_SELECTOR = keccakHex(ANCHOR_REGISTRY_SIGNATURES.rootOf).slice(0, 10);
/** 4-byte selector of `latestPeriod()`. */
export const LATEST_PERIOD_SELECTOR = keccakHex(ANCHOR_REGISTRY_SIGNATURES.latestPeriod).slice(0, 10);
/** 4-byte selector of `lastRoot()`. */
export const LAST_ROOT_SELECTOR = keccakHex(ANCHOR_REGISTRY_SIGNATURES.lastRoot).slice(0, 10);

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
