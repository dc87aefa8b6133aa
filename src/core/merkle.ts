import { sha256 } from '@noble/hashes/sha2.js';
import { bytesEqual, bytesToHex, hexToBytes, isHexOfLength } from './hex.js';

/**
 * Domain separation of RFC 6962 §2.1: leaves are hashed with a 0x00 prefix and interior nodes
 * with 0x01, so no leaf can be presented as a node (second-preimage attacks on the tree).
 */
export const LEAF_PREFIX = 0x00;
export const NODE_PREFIX = 0x01;
export const HASH_BYTES = 32;
export const SALT_BYTES = 32;

/** One step of an inclusion path: the sibling's hash and the side it sits on. */
export interface ProofStep {
  side: 'left' | 'right';
  hash: string;
}

/**
 * An RFC 9162 inclusion proof from a leaf up to the root. `path` lists siblings from the leaf
 * level upward; levels where the node had no sibling (an odd last node carried up) are absent.
 */
export interface InclusionProof {
  leafIndex: number;
  treeSize: number;
  path: ProofStep[];
}

/**
 * leaf = SHA-256(0x00 ‖ salt ‖ recordDigest) (RFC 6962 §2.1 leaf prefix). The salt is 32 random
 * bytes per registration, so a proof reveals nothing about its neighbours.
 */
export function leafHash(salt: Uint8Array, recordDigest: Uint8Array): Uint8Array {
  if (salt.length !== SALT_BYTES) throw new RangeError('salt must be 32 bytes');
  if (recordDigest.length !== HASH_BYTES) throw new RangeError('record digest must be 32 bytes');
  const input = new Uint8Array(1 + SALT_BYTES + HASH_BYTES);
  input[0] = LEAF_PREFIX;
  input.set(salt, 1);
  input.set(recordDigest, 1 + SALT_BYTES);
  return sha256(input);
}

/** node = SHA-256(0x01 ‖ left ‖ right) (RFC 6962 §2.1 interior node prefix). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  const input = new Uint8Array(1 + 2 * HASH_BYTES);
  input[0] = NODE_PREFIX;
  input.set(left, 1);
  input.set(right, 1 + HASH_BYTES);
  return sha256(input);
}

/**
 * All layers of the tree over `leaves`, bottom (the leaves) first, root layer last. An odd last
 * node is carried up unchanged, which makes the root exactly RFC 6962's Merkle Tree Hash.
 * This is the portable reference; the server builds the same layers over flat buffers.
 */
export function buildLayers(leaves: readonly Uint8Array[]): Uint8Array[][] {
  if (leaves.length === 0) throw new RangeError('a tree needs at least one leaf');
  const layers: Uint8Array[][] = [leaves.slice()];
  let current = layers[0]!;
  while (current.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i + 1 < current.length; i += 2) next.push(nodeHash(current[i]!, current[i + 1]!));
    if (current.length % 2 === 1) next.push(current[current.length - 1]!);
    layers.push(next);
    current = next;
  }
  return layers;
}

/** Number of nodes on each level of a tree of `treeSize` leaves, leaves first. */
export function layerSizes(treeSize: number): number[] {
  if (!Number.isSafeInteger(treeSize) || treeSize < 1) throw new RangeError('tree size must be >= 1');
  const sizes = [treeSize];
  let n = treeSize;
  while (n > 1) {
    n = Math.ceil(n / 2);
    sizes.push(n);
  }
  return sizes;
}

/**
 * Positions of the siblings on the path of `leafIndex`: one `{ level, index, side }` per level
 * that has a sibling. Fetching those hashes is all a proof costs: O(log n) reads.
 */
export function inclusionPathPositions(
  treeSize: number,
  leafIndex: number,
): { level: number; index: number; side: 'left' | 'right' }[] {
  const sizes = layerSizes(treeSize);
  if (!Number.isSafeInteger(leafIndex) || leafIndex < 0 || leafIndex >= treeSize) {
    throw new RangeError('leaf index out of range');
  }
  const positions: { level: number; index: number; side: 'left' | 'right' }[] = [];
  let index = leafIndex;
  for (let level = 0; level < sizes.length - 1; level++) {
    const size = sizes[level]!;
    if (index % 2 === 1) positions.push({ level, index: index - 1, side: 'left' });
    else if (index + 1 < size) positions.push({ level, index: index + 1, side: 'right' });
    // else: the last node of an odd level is carried up and has no sibling here.
    index = Math.floor(index / 2);
  }
  return positions;
}

/** The inclusion proof of `leafIndex` read out of full layers (see `buildLayers`). */
export function proofFromLayers(layers: readonly (readonly Uint8Array[])[], leafIndex: number): InclusionProof {
  const treeSize = layers[0]?.length ?? 0;
  const path = inclusionPathPositions(treeSize, leafIndex).map(({ level, index, side }) => ({
    side,
    hash: bytesToHex(layers[level]![index]!),
  }));
  return { leafIndex, treeSize, path };
}

/** Folds a path from `leaf` upward by the sides it names and returns the root it leads to. */
export function rootFromProof(leaf: Uint8Array, path: readonly ProofStep[]): Uint8Array {
  let acc = leaf;
  for (const step of path) {
    const sibling = hexToBytes(step.hash);
    if (sibling.length !== HASH_BYTES) throw new RangeError('a path hash must be 32 bytes');
    acc = step.side === 'left' ? nodeHash(sibling, acc) : nodeHash(acc, sibling);
  }
  return acc;
}

/**
 * RFC 9162 §2.1.3.2: verifies an inclusion proof from index and size alone, ignoring the `side`
 * labels, as any Certificate Transparency / transparency-log verifier would. Returns false for
 * any malformed input instead of throwing.
 */
export function verifyInclusionRfc9162(
  leaf: Uint8Array,
  proof: InclusionProof,
  root: Uint8Array,
): boolean {
  const { leafIndex, treeSize, path } = proof;
  if (!Number.isSafeInteger(leafIndex) || !Number.isSafeInteger(treeSize)) return false;
  if (leafIndex < 0 || leafIndex >= treeSize) return false;
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r = leaf;
  for (const step of path) {
    if (sn === 0) return false;
    if (!isHexOfLength(step.hash, HASH_BYTES)) return false;
    const p = hexToBytes(step.hash);
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && bytesEqual(r, root);
}

/**
 * Checks that `path`'s sides are the ones index and size imply, so the two readings of a proof
 * (folding by side, RFC 9162 by position) can never disagree about which leaf it proves.
 */
export function pathSidesMatchPosition(proof: InclusionProof): boolean {
  let expected: { side: 'left' | 'right' }[];
  try {
    expected = inclusionPathPositions(proof.treeSize, proof.leafIndex);
  } catch {
    return false;
  }
  return (
    expected.length === proof.path.length && expected.every((e, i) => e.side === proof.path[i]!.side)
  );
}
