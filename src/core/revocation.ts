import * as pkijs from 'pkijs';
import { OID_AD_OCSP, OID_EXT_AUTHORITY_INFO_ACCESS, OID_EXT_CRL_DISTRIBUTION_POINTS } from './pki-oids.js';

/**
 * The revocation services (CRL distribution points, OCSP responders) that `certificates` name,
 * as URLs (or the extension's name when it holds no URL). An empty list means the PKI publishes
 * no revocation service for them: there is then nothing to check, and a verifier says so rather
 * than claim it checked.
 */
export function revocationServicesOf(certificates: readonly pkijs.Certificate[]): string[] {
  const services = new Set<string>();
  for (const cert of certificates) {
    for (const ext of cert.extensions ?? []) {
      if (ext.extnID === OID_EXT_CRL_DISTRIBUTION_POINTS) {
        const points = (ext.parsedValue as pkijs.CRLDistributionPoints | undefined)?.distributionPoints ?? [];
        let named = false;
        for (const point of points) {
          const names = Array.isArray(point.distributionPoint) ? point.distributionPoint : [];
          for (const name of names) {
            if (name.type === 6) {
              services.add(`CRL ${String(name.value)}`);
              named = true;
            }
          }
        }
        if (!named) services.add('CRL (cRLDistributionPoints without a URL)');
      } else if (ext.extnID === OID_EXT_AUTHORITY_INFO_ACCESS) {
        for (const access of (ext.parsedValue as pkijs.InfoAccess | undefined)?.accessDescriptions ?? []) {
          if (access.accessMethod === OID_AD_OCSP) services.add(`OCSP ${String(access.accessLocation.value)}`);
        }
      }
    }
  }
  return [...services];
}
