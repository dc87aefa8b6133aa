import { canonicalBytes } from '../core/canonical-json.js';
import { bytesToHex } from '../core/hex.js';
import { buildLayers, proofFromLayers } from '../core/merkle.js';
import { RECEIPT_FORMAT, type Receipt, type ReceiptContent } from '../core/receipt.js';
import { signDetached, type SigningIdentity } from '../pki/cms-signer.js';
import { merkleRoot } from './tree-builder.js';

/**
 * Signs one receipt per committed group: the Merkle root over each request's root of leaves.
 * One RSA signature per group instead of per request keeps receipts affordable at thousands of
 * registrations a second; each request gets the path from its own root.
 */
export class ReceiptSigner {
  constructor(
    private readonly center: string,
    private readonly signer: SigningIdentity,
  ) {}

  /** Receipts for a group, one per request, in order; `leaves[i]` are request i's leaves (hex). */
  sign(receivedAt: string, leaves: readonly (readonly string[])[]): Receipt[] {
    // Each request's root over flat buffers with node:crypto (a batch has 10,000 leaves); the
    // small tree over the requests' roots with the core code verifiers use.
    const layers = buildLayers(leaves.map((l) => new Uint8Array(merkleRoot(Buffer.from(l.join(''), 'hex')))));
    const content: ReceiptContent = {
      format: RECEIPT_FORMAT,
      center: this.center,
      receivedAt,
      requests: leaves.length,
      root: bytesToHex(layers[layers.length - 1]![0]!),
    };
    const signed = canonicalBytes(content);
    const signature = Buffer.from(signDetached(signed, this.signer, { signingTime: new Date(receivedAt) })).toString('base64');
    const signedContent = Buffer.from(signed).toString('base64');
    return leaves.map((_, i) => ({ format: RECEIPT_FORMAT, content, signedContent, signature, proof: proofFromLayers(layers, i) }));
  }
}
