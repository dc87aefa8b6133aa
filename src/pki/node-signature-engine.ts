import { createPublicKey, verify, X509Certificate, type KeyObject } from 'node:crypto';
import type { PathResult, SignatureEngine } from '../core/signature-engine.js';

/** Signature algorithm OIDs whose digest the OID itself names (RFC 4055 §5, RFC 5758 §3.2). */
const HASH_OF_ALGORITHM: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
};
/** rsaEncryption and id-ecPublicKey as a signature algorithm: the digest is the signer's (RFC 5652 §5.4). */
const KEY_ONLY_ALGORITHMS = new Set(['1.2.840.113549.1.1.1', '1.2.840.10045.2.1']);

/** Most certificates in a path; the center's is root → center, an outside CA's a few more. */
const MAX_PATH_LENGTH = 8;
/** Parsed certificates and keys kept, by their DER: the same roots and signers come back call after call. */
const CACHE_LIMIT = 256;

/**
 * The {@link SignatureEngine} of the server and the CLI: node:crypto (OpenSSL) checks each
 * signature and each certificate's signature, at about 100 times the rate of pkijs over
 * WebCrypto here (npm run bench, `pki` phase). The path rules are RFC 5280's that the
 * center's PKI relies on: each certificate issued (names, key identifiers, key usage, as
 * OpenSSL's X509_check_issued) and signed by the next, every issuer a CA, every certificate
 * valid at the time asked, ending at a given root.
 */
export class NodeSignatureEngine implements SignatureEngine {
  readonly name = 'node:crypto';
  private readonly certificates = new Map<string, X509Certificate>();
  private readonly keys = new Map<string, KeyObject>();

  async verifySignature(input: Parameters<SignatureEngine['verifySignature']>[0]): Promise<boolean> {
    const { oid } = input.algorithm;
    const hash = HASH_OF_ALGORITHM[oid] ?? (KEY_ONLY_ALGORITHMS.has(oid) ? input.hash.replace('-', '').toLowerCase() : undefined);
    if (!hash) throw new Error(`signature algorithm ${oid} is not supported`);
    return verify(hash, input.data, this.key(input.spki), input.signature);
  }

  async validatePath(input: Parameters<SignatureEngine['validatePath']>[0]): Promise<PathResult> {
    let leaf: X509Certificate;
    let intermediates: X509Certificate[];
    let roots: X509Certificate[];
    try {
      leaf = this.certificate(input.leaf);
      intermediates = input.intermediates.map((d) => this.certificate(d));
      roots = input.roots.map((d) => this.certificate(d));
    } catch (e) {
      return { valid: false, message: `a certificate cannot be read: ${(e as Error).message}` };
    }
    const path = [leaf];
    for (let current = leaf; path.length <= MAX_PATH_LENGTH; ) {
      const root = roots.find((r) => issuedBy(current, r));
      if (root) {
        if (root.raw.equals(current.raw)) path.pop();
        path.push(root);
        return withinValidity(path, input.at);
      }
      const next = intermediates.find((c) => c.ca && !path.includes(c) && issuedBy(current, c));
      if (!next) return { valid: false, message: `no issuer of ${current.subject.replace(/\n/g, ', ')} leads to a trusted root` };
      path.push(next);
      current = next;
    }
    return { valid: false, message: `no path to a trusted root within ${MAX_PATH_LENGTH} certificates` };
  }

  private certificate(der: Uint8Array): X509Certificate {
    const id = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('latin1');
    let cert = this.certificates.get(id);
    if (!cert) {
      cert = new X509Certificate(der);
      if (this.certificates.size >= CACHE_LIMIT) this.certificates.clear();
      this.certificates.set(id, cert);
    }
    return cert;
  }

  private key(spki: Uint8Array): KeyObject {
    const id = Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength).toString('latin1');
    let key = this.keys.get(id);
    if (!key) {
      key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
      if (this.keys.size >= CACHE_LIMIT) this.keys.clear();
      this.keys.set(id, key);
    }
    return key;
  }
}

/** `issuer` issued `cert` (OpenSSL's name, key-identifier and key-usage checks) and signed it. */
function issuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  if (!cert.checkIssued(issuer)) return false;
  try {
    return cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

function withinValidity(path: X509Certificate[], at: Date): PathResult {
  const t = at.getTime();
  for (const cert of path) {
    if (t < Date.parse(cert.validFrom) || t > Date.parse(cert.validTo)) {
      return {
        valid: false,
        message: `the certificate ${cert.subject.replace(/\n/g, ', ')} is not yet valid or expired at ${at.toISOString()} (valid from ${cert.validFrom} to ${cert.validTo})`,
      };
    }
  }
  return {
    valid: true,
    path: path.map((c) => new Uint8Array(c.raw)),
    notBefore: new Date(Math.max(...path.map((c) => Date.parse(c.validFrom)))),
    notAfter: new Date(Math.min(...path.map((c) => Date.parse(c.validTo)))),
  };
}

/** One engine for the process: its caches serve every verification. */
export const nodeSignatureEngine: SignatureEngine = new NodeSignatureEngine();
