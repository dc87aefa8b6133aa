import { createHash } from 'node:crypto';
import { OID_DATA } from '../core/pki-oids.js';
import { SignedDataSigner, type SigningIdentity } from './signed-data-builder.js';

export type { SigningIdentity } from './signed-data-builder.js';

/** Options of {@link signDetached}. */
export interface DetachedSignatureOptions {
  /** signing-time attribute; default now. */
  signingTime?: Date;
  /** Also put the self-issued root into `certificates` (left out by default: RFC 5652 §5.1 needs only enough to build a path, and the verifier brings its own root). */
  includeRoot?: boolean;
}

const signers = new WeakMap<SigningIdentity, { includeRoot: boolean; signer: SignedDataSigner }[]>();

/**
 * A detached CMS SignedData (RFC 5652 §5) over `content`: SHA-256, signed attributes
 * content-type, message-digest, signing-time and ESS signing-certificate-v2 (RFC 5035), the
 * signer's certificate and chain in `certificates`. Returns the DER ContentInfo, which
 * `openssl cms -verify -binary -inform DER -content FILE` accepts.
 */
export function signDetached(
  content: Uint8Array,
  signer: SigningIdentity,
  options: DetachedSignatureOptions = {},
): Uint8Array {
  const includeRoot = options.includeRoot ?? false;
  return signerFor(signer, includeRoot).sign({
    eContentType: OID_DATA,
    contentDigest: createHash('sha256').update(content).digest(),
    signingTime: options.signingTime ?? new Date(),
    includeCertificates: true,
  });
}

// Encoding the signer-dependent parts once per identity keeps signing at the speed of the RSA operation.
function signerFor(identity: SigningIdentity, includeRoot: boolean): SignedDataSigner {
  let cached = signers.get(identity);
  if (!cached) {
    cached = [];
    signers.set(identity, cached);
  }
  let entry = cached.find((c) => c.includeRoot === includeRoot);
  if (!entry) {
    entry = { includeRoot, signer: new SignedDataSigner(identity, { includeRoot }) };
    cached.push(entry);
  }
  return entry.signer;
}
