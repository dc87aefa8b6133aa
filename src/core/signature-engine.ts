import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { asArrayBufferView } from './certificate-facts.js';
import { getPkiEngine } from './pki-engine.js';

/**
 * The public-key work of the CMS and RFC 3161 verifiers, behind one narrow interface: check one
 * signature, and build a certificate path to a trusted root. The core parses and judges
 * everything else itself, so the browser (pkijs over WebCrypto, {@link pkijsSignatureEngine}) and
 * the server and CLI (node:crypto, `src/pki/node-signature-engine.ts`) reach the same verdicts.
 */
export interface SignatureEngine {
  readonly name: string;
  /**
   * True when `signature` over `data` verifies with the key `spki` (DER SubjectPublicKeyInfo).
   * `algorithm` is the signature algorithm's OID and its DER parameters, `hash` the digest the
   * signer declared. Throws when the algorithm is not supported.
   */
  verifySignature(input: SignatureInput): Promise<boolean>;
  /**
   * An RFC 5280 path from `leaf` (DER) through `intermediates` to one of `roots`, each
   * certificate signed by the next, issuers CAs, every one valid at `at`.
   */
  validatePath(input: PathInput): Promise<PathResult>;
}

export type EngineHash = 'SHA-256' | 'SHA-384' | 'SHA-512';

export interface SignatureInput {
  spki: Uint8Array;
  algorithm: { oid: string; params?: Uint8Array };
  hash: EngineHash;
  data: Uint8Array;
  signature: Uint8Array;
}

export interface PathInput {
  leaf: Uint8Array;
  intermediates: readonly Uint8Array[];
  roots: readonly Uint8Array[];
  at: Date;
}

export type PathResult =
  | {
      valid: true;
      /** The path, leaf first, root last. */
      path: Uint8Array[];
      /** When every certificate of the path is valid: the latest notBefore and earliest notAfter. */
      notBefore: Date;
      notAfter: Date;
    }
  | { valid: false; message: string };

/** The default engine: pkijs over WebCrypto, the same code in Node and in a browser. */
export const pkijsSignatureEngine: SignatureEngine = {
  name: 'pkijs',
  async verifySignature(input) {
    const spki = pkijs.PublicKeyInfo.fromBER(asArrayBufferView(input.spki));
    const params = input.algorithm.params ? asn1js.fromBER(asArrayBufferView(input.algorithm.params)).result : undefined;
    const algorithm = new pkijs.AlgorithmIdentifier({ algorithmId: input.algorithm.oid, ...(params && { algorithmParams: params }) });
    return getPkiEngine().verifyWithPublicKey(
      asArrayBufferView(input.data),
      new asn1js.OctetString({ valueHex: asArrayBufferView(input.signature) }),
      spki,
      algorithm,
      input.hash,
    );
  },
  async validatePath(input) {
    const parse = (der: Uint8Array) => pkijs.Certificate.fromBER(asArrayBufferView(der));
    const leaf = parse(input.leaf);
    const engine = new pkijs.CertificateChainValidationEngine({
      trustedCerts: input.roots.map(parse),
      // The engine takes the last certificate as the leaf.
      certs: [...input.intermediates.map(parse), leaf],
      checkDate: input.at,
    });
    let result: { result: boolean; resultMessage: string; certificatePath?: pkijs.Certificate[] };
    try {
      result = await engine.verify({}, getPkiEngine());
    } catch (e) {
      const message = e && typeof e === 'object' && 'resultMessage' in e ? String(e.resultMessage) : e instanceof Error ? e.message : String(e);
      return { valid: false, message };
    }
    if (!result.result) return { valid: false, message: result.resultMessage };
    const path = result.certificatePath ?? [leaf];
    return {
      valid: true,
      path: path.map((c) => new Uint8Array(c.toSchema().toBER())),
      notBefore: new Date(Math.max(...path.map((c) => c.notBefore.value.getTime()))),
      notAfter: new Date(Math.min(...path.map((c) => c.notAfter.value.getTime()))),
    };
  },
};

let defaultEngine: SignatureEngine = pkijsSignatureEngine;

/** The engine used where a caller names none: pkijs, unless a composition root chose another. */
export function defaultSignatureEngine(): SignatureEngine {
  return defaultEngine;
}

/**
 * Makes `engine` the default for this process (the server and CLI entry points choose node:crypto;
 * the browser keeps pkijs). Verdicts do not depend on the choice; only speed does.
 */
export function setDefaultSignatureEngine(engine: SignatureEngine): void {
  defaultEngine = engine;
}
