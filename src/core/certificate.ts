import type { EvidenceRecord } from './evidence-renewal.js';
import type { InclusionProof } from './merkle.js';
import type { RegistrationRecord } from './record.js';

export const CERTIFICATE_FORMAT = 'archive-seal/certificate@1';

/** One anchoring of the period's root, as the certificate records it. */
export interface CertificateAnchor {
  chain: string;
  chainId: number;
  /** AnchorRegistry address. */
  contract: string;
  txHash: string;
  blockNumber: number;
  blockHash: string;
  /** The block's timestamp, UTC ISO 8601. */
  blockTime: string;
  /**
   * False when the chain is the center's own (the embedded development chain): whoever runs a
   * node can rewrite it, so it proves nothing independent of the center. True for an outside
   * chain. Absent in certificates issued before this field: the verifier then judges by chain id
   * (see `isDevelopmentChain`).
   */
  independent?: boolean;
}

/**
 * What the center certifies: the registration's record, the salt and inclusion proof that bind
 * it to its period's root, the RFC 3161 token over that root and every anchor of it. This is the
 * object whose RFC 8785 canonical bytes the center signs.
 */
export interface CertificateContent {
  format: typeof CERTIFICATE_FORMAT;
  issuedAt: string;
  issuer: {
    center: string;
    name: string;
    /** True when signed with the development PKI: the certificate is not evidence. */
    development: boolean;
  };
  record: RegistrationRecord;
  /** SHA-256 of the record's canonical bytes (RFC 8785). */
  recordDigest: { sha256: string };
  /** 32 random bytes, hex; leaf = SHA-256(0x00 ‖ salt ‖ recordDigest). */
  salt: string;
  leaf: string;
  /** RFC 9162 inclusion proof of `leaf` in the period's tree. */
  proof: InclusionProof;
  period: { id: number; root: string; previousRoot: string; leafCount: number; sealedAt: string };
  /** RFC 3161 TimeStampToken over the root (its message imprint is the SHA-256 root). */
  timestamp: { token: string; genTime: string; tsa: string; serial: string };
  anchors: CertificateAnchor[];
}

/**
 * The certificate file: the content to read, the exact bytes the center signed (base64 of the
 * content's canonical JSON, so `openssl cms -verify` can be run on them with no JSON tool of
 * ours), and the detached CMS signature with the center's certificate chain (base64 DER).
 */
export interface Certificate {
  format: typeof CERTIFICATE_FORMAT;
  content: CertificateContent;
  signedContent: string;
  signature: string;
  /**
   * The period timestamp's renewals (RFC 4998 style), outside what the center signs: each token
   * proves itself, so renewals made after the certificate was issued are added without signing
   * it again. Absent in certificates written before renewals existed, and before any renewal.
   */
  evidence?: EvidenceRecord;
}
