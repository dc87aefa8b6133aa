import { hash } from 'node:crypto';
import { canonicalize } from '../core/canonical-json.js';
import { verifyDetachedCms } from '../core/cms-verify.js';
import { signDetached, type SigningIdentity } from '../pki/cms-signer.js';
import type { Store } from '../store/store.js';
import { VaultError } from './vault-error.js';

/**
 * A certificate segment: issued certificates (rows `firstSeq`..`lastSeq` of the certificate
 * table, by rowid), each with its public link id and its document exactly as stored, signed by
 * the center like a bundle. Peers keep them so that a recovery gives back every certificate a
 * court may hold under the same link, byte for byte: a certificate is issued once (its id is
 * random, its signature has its signing time) and cannot be made again.
 */
export const CERTIFICATES_FORMAT = 'archive-seal/certificates@1';

export interface SegmentCertificate {
  /** The certificate's rowid: restored as it was, so segments cut later never overlap. */
  seq: number;
  id: string;
  registrationId: number;
  issuedAt: string;
  anchorIds: string;
  /** The certificate file as stored and served (JSON text). */
  document: string;
}

export interface CertificateSegment {
  format: typeof CERTIFICATES_FORMAT;
  center: string;
  certificates: SegmentCertificate[];
}

/** The name of a segment: `<first rowid>-<last rowid>`. */
export function certificateSegmentKey(firstSeq: number, lastSeq: number): string {
  return `${firstSeq}-${lastSeq}`;
}

export function parseCertificateSegmentKey(key: string): { firstSeq: number; lastSeq: number } | undefined {
  const m = /^([1-9]\d{0,15})-([1-9]\d{0,15})$/.exec(key);
  if (!m) return undefined;
  const [firstSeq, lastSeq] = [Number(m[1]), Number(m[2])];
  return firstSeq <= lastSeq ? { firstSeq, lastSeq } : undefined;
}

/** The segment's bytes (RFC 8785 canonical JSON): certificates are never changed, so the same each time. */
export function buildCertificateSegmentBytes(store: Store, key: string, centerId: string): Buffer {
  const range = parseCertificateSegmentKey(key);
  if (!range) throw new VaultError('BUNDLE_INVALID', `${key} does not name a certificate segment`);
  const rows = store
    .prepare('SELECT rowid AS seq, id, registration_id, issued_at, anchor_ids, document FROM certificate WHERE rowid BETWEEN ? AND ? ORDER BY rowid')
    .all(range.firstSeq, range.lastSeq) as { seq: number; id: string; registration_id: number; issued_at: string; anchor_ids: string; document: string }[];
  const segment: CertificateSegment = {
    format: CERTIFICATES_FORMAT,
    center: centerId,
    certificates: rows.map((r) => ({ seq: r.seq, id: r.id, registrationId: r.registration_id, issuedAt: r.issued_at, anchorIds: r.anchor_ids, document: r.document })),
  };
  return Buffer.from(canonicalize(segment), 'utf8');
}

export function signCertificateSegment(store: Store, key: string, options: { centerId: string; signer: SigningIdentity }): { bytes: Buffer; signature: Buffer; sha256: string } {
  const bytes = buildCertificateSegmentBytes(store, key, options.centerId);
  return { bytes, signature: Buffer.from(signDetached(bytes, options.signer)), sha256: hash('sha256', bytes, 'hex') };
}

/** Checks a certificate segment's signature, and that it holds what `key` names; returns it. */
export async function verifyCertificateSegment(
  signed: { bytes: Buffer; signature: Buffer },
  key: string,
  trustRoots: readonly (string | Uint8Array)[],
): Promise<CertificateSegment> {
  const range = parseCertificateSegmentKey(key);
  if (!range) throw new VaultError('BUNDLE_INVALID', `${key} does not name a certificate segment`);
  const cms = await verifyDetachedCms(signed.signature, signed.bytes, trustRoots);
  if (cms.status !== 'ok') throw new VaultError('BUNDLE_INVALID', `the certificate segment's signature does not verify: ${cms.code}: ${cms.message}`);
  let segment: CertificateSegment;
  try {
    segment = JSON.parse(signed.bytes.toString('utf8')) as CertificateSegment;
  } catch {
    throw new VaultError('BUNDLE_INVALID', 'the certificate segment is not JSON');
  }
  const fail = (message: string): never => {
    throw new VaultError('BUNDLE_INVALID', `certificate segment ${key}: ${message}`);
  };
  if (segment.format !== CERTIFICATES_FORMAT || !Array.isArray(segment.certificates)) fail(`unknown format ${String(segment.format)}`);
  let previous = 0;
  for (const c of segment.certificates) {
    if (!Number.isSafeInteger(c.seq) || c.seq < range.firstSeq || c.seq > range.lastSeq || c.seq <= previous) fail(`certificate ${c.id} is outside the segment or out of order`);
    previous = c.seq;
    if (typeof c.id !== 'string' || !/^[A-Za-z0-9_-]{22}$/.test(c.id)) fail('a certificate id is not a link id');
    if (!Number.isSafeInteger(c.registrationId) || typeof c.document !== 'string' || typeof c.issuedAt !== 'string' || typeof c.anchorIds !== 'string') fail(`certificate ${c.id} is incomplete`);
  }
  return segment;
}
