import { documentSigningProblem, readCertificateFacts } from './certificate-facts.js';
import { revocationServicesOf } from './revocation.js';
import type { SignatureEngine } from './signature-engine.js';
import {
  cachedCertificate,
  errorText,
  parseSignedData,
  parseTrustRoots,
  SignedDataCheckFailure,
  verifyChainToRoots,
  verifySignerSignature,
  type SignedDataProblem,
} from './signed-data-check.js';

/** Outcome codes of {@link verifyDetachedCms}; tests and callers branch on these. */
export type CmsVerificationCode =
  | 'OK'
  | 'CMS_MALFORMED'
  | 'CMS_UNSUPPORTED_ALGORITHM'
  | 'CMS_DIGEST_MISMATCH'
  | 'CMS_SIGNATURE_INVALID'
  | 'CMS_UNTRUSTED_SIGNER'
  | 'CMS_SIGNER_NOT_FOR_DOCUMENTS'
  | 'CMS_BAD_TRUST_ROOT';

/** Who signed, as read from the signer's certificate. */
export interface CmsSignerSummary {
  /** RFC 4514 subject of the signer certificate. */
  subject: string;
  /** Serial number, lowercase hex. */
  serial: string;
  /** True when the certificate carries the development policy: not evidence. */
  isDevelopment: boolean;
  /**
   * True when the signer or any certificate of its path up to the root (the root included)
   * carries the development policy: the development root's private key is published, so anyone
   * can issue under it, with or without the policy on the leaf.
   */
  chainsToDevelopment?: boolean;
  /** Start of the signer certificate's validity. */
  notBefore: Date;
}

/** Result of {@link verifyDetachedCms}. Never thrown; `status` says whether every check passed. */
export interface CmsVerificationResult {
  status: 'ok' | 'failed';
  code: CmsVerificationCode;
  message: string;
  /** Present whenever the signer certificate could be found, also on failure. */
  signer?: CmsSignerSummary;
  /** When the validated path (signer to root) is valid: present on success. */
  pathValidity?: { notBefore: Date; notAfter: Date };
  /** Revocation services (CRL, OCSP URLs) the signer's certificates name; empty: none published. */
  revocationServices?: string[];
}

const CODE_BY_PROBLEM: Record<SignedDataProblem, CmsVerificationCode> = {
  malformed: 'CMS_MALFORMED',
  'unsupported-algorithm': 'CMS_UNSUPPORTED_ALGORITHM',
  'digest-mismatch': 'CMS_DIGEST_MISMATCH',
  'signature-invalid': 'CMS_SIGNATURE_INVALID',
  untrusted: 'CMS_UNTRUSTED_SIGNER',
};

/**
 * Verifies a detached CMS SignedData (RFC 5652) over `content`: the message-digest attribute,
 * the signature over the signed attributes, and a certificate path from the signer to one of
 * `trustRoots` (PEM text or DER) valid at `options.at` (default: now). Browser-safe; never
 * throws: a bad input is a `failed` result with a code.
 */
export async function verifyDetachedCms(
  signatureDer: Uint8Array,
  content: Uint8Array,
  trustRoots: readonly (string | Uint8Array)[],
  options: { at?: Date; engine?: SignatureEngine } = {},
): Promise<CmsVerificationResult> {
  let roots;
  try {
    roots = parseTrustRoots(trustRoots);
  } catch (e) {
    return { status: 'failed', code: 'CMS_BAD_TRUST_ROOT', message: `a trust root is not a certificate: ${errorText(e)}` };
  }
  let signer: CmsSignerSummary | undefined;
  try {
    const parsed = parseSignedData(signatureDer);
    const facts = readCertificateFacts(parsed.signerCertificate);
    signer = { subject: facts.subject, serial: facts.serial, isDevelopment: facts.isDevelopment, notBefore: facts.notBefore };
    if (parsed.eContent !== null) {
      throw new SignedDataCheckFailure('malformed', 'the SignedData encapsulates its content; a detached signature was expected');
    }
    await verifySignerSignature(parsed, content, options.engine);
    const path = await verifyChainToRoots(parsed, roots, options.at ?? new Date(), options.engine);
    signer.chainsToDevelopment = facts.isDevelopment || path.path.some((der) => readCertificateFacts(cachedCertificate(der)).isDevelopment);
    // Chaining to the root is not enough: the root also certifies the TSA and the peer centers' TLS keys.
    const purposeProblem = documentSigningProblem(facts);
    if (purposeProblem) return { status: 'failed', code: 'CMS_SIGNER_NOT_FOR_DOCUMENTS', message: purposeProblem, signer };
    const devNote = signer.chainsToDevelopment ? ' (DEVELOPMENT certificate: not evidence)' : '';
    return {
      status: 'ok',
      code: 'OK',
      message: `signature by ${facts.subject} verifies and chains to a trusted root${devNote}`,
      signer,
      pathValidity: { notBefore: path.notBefore, notAfter: path.notAfter },
      revocationServices: revocationServicesOf(parsed.certificates),
    };
  } catch (e) {
    const code = e instanceof SignedDataCheckFailure ? CODE_BY_PROBLEM[e.problem] : 'CMS_MALFORMED';
    const result: CmsVerificationResult = { status: 'failed', code, message: errorText(e) };
    if (signer) result.signer = signer;
    return result;
  }
}
