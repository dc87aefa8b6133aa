import { createHash } from 'node:crypto';
import { DEVELOPMENT_TSA_POLICY_OID, isDevelopmentOid } from '../core/development-marker.js';
import type { CenterPki } from './center-pki.js';

/**
 * The policy OID (RFC 3161 §2.4.2) the built-in TSA stamps with, and where it came from.
 * - Set (ARCHIVE_SEAL_TSA_POLICY_OID): that one; with a real PKI an OID under the development
 *   arc is refused (`null` policy, with the reason), since it marks every token "not evidence".
 * - Unset, development PKI: the development policy.
 * - Unset, real PKI: an OID of the X.667 UUID arc 2.25, derived from the TSA certificate
 *   (the first 128 bits of its SHA-256): no one else's, stable while that certificate is, and
 *   registered with nobody, so an archive with its own policy OID sets it instead.
 */
export function tsaPolicyOid(pki: CenterPki, setting: string | undefined): { oid: string; source: 'setting' | 'development' | 'derived' } | { oid: null; problem: string } {
  if (setting !== undefined) {
    if (!pki.isDevelopment && isDevelopmentOid(setting)) {
      return { oid: null, problem: `${setting} is the development TSA policy arc: with the center's own keys, tokens under it would say "not evidence"` };
    }
    return { oid: setting, source: 'setting' };
  }
  if (pki.isDevelopment) return { oid: DEVELOPMENT_TSA_POLICY_OID, source: 'development' };
  const digest = createHash('sha256').update(pki.tsa.certificate.der).digest();
  return { oid: `2.25.${BigInt(`0x${digest.subarray(0, 16).toString('hex')}`).toString(10)}`, source: 'derived' };
}
