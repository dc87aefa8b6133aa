import { canonicalBytes } from './canonical-json.js';
import { verifyDetachedCms } from './cms-verify.js';
import { bytesEqual, bytesToHex, hexToBytes, isHexOfLength } from './hex.js';
import { buildLayers, rootFromProof, verifyInclusionRfc9162, type InclusionProof } from './merkle.js';
import { base64ToBytes } from './pem.js';

export const RECEIPT_FORMAT = 'archive-seal/receipt@1';

/**
 * What the center signs when it commits a group of registrations: the time it received them and
 * the root of a Merkle tree whose leaves are, per request in the group, the root of that
 * request's salted registration leaves (one leaf for a single registration). One signature
 * covers every request of the group; each answer carries the path from its request's root up,
 * so no answer shows anything about another registrant's records.
 */
export interface ReceiptContent {
  format: typeof RECEIPT_FORMAT;
  center: string;
  receivedAt: string;
  /** Number of requests in the group (leaves of the receipt tree). */
  requests: number;
  /** SHA-256 Merkle root (RFC 6962 node hashing) over the requests' roots, hex. */
  root: string;
}

/** A receipt as an answer carries it. */
export interface Receipt {
  format: typeof RECEIPT_FORMAT;
  content: ReceiptContent;
  /** Base64 of the content's canonical JSON: the exact bytes signed. */
  signedContent: string;
  /** Base64 detached CMS signature (with the center's certificate chain). */
  signature: string;
  /** Inclusion proof of this request's root (the root over its registrations' leaves, in order). */
  proof: InclusionProof;
}

/** The root of one request's registration leaves (their order in the answer). */
export function requestRoot(leaves: readonly string[]): Uint8Array {
  const layers = buildLayers(leaves.map((l) => hexToBytes(l)));
  return layers[layers.length - 1]![0]!;
}

export interface ReceiptCheck {
  status: 'ok' | 'failed';
  code: 'OK' | 'RECEIPT_MALFORMED' | 'RECEIPT_CONTENT_MISMATCH' | 'RECEIPT_NOT_INCLUDED' | string;
  message: string;
}

/**
 * Checks a receipt for the registrations whose leaves (hex, in the answer's order) it covers:
 * the center's signature over the exact content, and that the leaves' root is in the receipt's
 * tree. Browser-safe; never throws.
 */
export async function verifyReceipt(receipt: Receipt, leaves: readonly string[], trustRoots: readonly (string | Uint8Array)[]): Promise<ReceiptCheck> {
  try {
    if (receipt?.format !== RECEIPT_FORMAT || !isHexOfLength(receipt.content?.root, 32) || leaves.length === 0 || !leaves.every((l) => isHexOfLength(l, 32))) {
      return { status: 'failed', code: 'RECEIPT_MALFORMED', message: 'not an archive-seal/receipt@1 with leaves to check' };
    }
    const signed = base64ToBytes(receipt.signedContent);
    if (!bytesEqual(signed, canonicalBytes(receipt.content))) {
      return { status: 'failed', code: 'RECEIPT_CONTENT_MISMATCH', message: 'the receipt content is not what the center signed' };
    }
    const cms = await verifyDetachedCms(base64ToBytes(receipt.signature), signed, trustRoots, { at: new Date(receipt.content.receivedAt) });
    if (cms.status !== 'ok') return { status: 'failed', code: cms.code, message: cms.message };
    const leaf = requestRoot(leaves);
    const root = hexToBytes(receipt.content.root);
    if (receipt.proof.treeSize !== receipt.content.requests || !bytesEqual(rootFromProof(leaf, receipt.proof.path), root) || !verifyInclusionRfc9162(leaf, receipt.proof, root)) {
      return { status: 'failed', code: 'RECEIPT_NOT_INCLUDED', message: `these registrations (root ${bytesToHex(leaf)}) are not in the receipt` };
    }
    return { status: 'ok', code: 'OK', message: `received by ${receipt.content.center} at ${receipt.content.receivedAt}` };
  } catch (err) {
    return { status: 'failed', code: 'RECEIPT_MALFORMED', message: (err as Error).message };
  }
}
