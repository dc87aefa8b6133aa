import { canonicalBytes } from '../core/canonical-json.js';
import { HASH_BYTES } from '../core/merkle.js';
import { RECEIPT_FORMAT, type Receipt, type ReceiptContent } from '../core/receipt.js';
import { signDetached, type SigningIdentity } from '../pki/cms-signer.js';
import { merkleRoot, proofFromLevels, treeLevels } from './tree-builder.js';

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
    // Each request's root (a batch has 10,000 leaves), then the tree over those roots, over flat
    // buffers with node:crypto: the same tree as src/core/merkle.ts builds, which verifiers use.
    const roots = Buffer.allocUnsafe(leaves.length * HASH_BYTES);
    leaves.forEach((l, i) => {
      if (l.length === 1) roots.write(l[0]!, i * HASH_BYTES, 'hex'); // one leaf is its own root
      else merkleRoot(Buffer.from(l.join(''), 'hex')).copy(roots, i * HASH_BYTES);
    });
    const levels = treeLevels(roots);
    const content: ReceiptContent = {
      format: RECEIPT_FORMAT,
      center: this.center,
      receivedAt,
      requests: leaves.length,
      root: levels[levels.length - 1]!.toString('hex'),
    };
    const signed = canonicalBytes(content);
    const signature = Buffer.from(signDetached(signed, this.signer, { signingTime: new Date(receivedAt) })).toString('base64');
    const signedContent = Buffer.from(signed).toString('base64');
    return leaves.map((_, i) => ({ format: RECEIPT_FORMAT, content, signedContent, signature, proof: proofFromLevels(levels, i) }));
  }
}
