import { readCertificateFacts } from '../core/certificate-facts.js';
import { cachedCertificate } from '../core/signed-data-check.js';
import { sha256Hex } from '../core/digests.js';
import { derToPem, pemCertificatesToDer } from '../core/pem.js';

/** A trusted root as the page lists it and the report names it. */
export interface TrustRoot {
  pem: string;
  subject: string;
  /** SHA-256 of the DER: the fingerprint an expert compares with `openssl x509 -fingerprint -sha256`. */
  sha256: string;
  notAfter: string;
  isDevelopment: boolean;
  source: 'center' | 'user';
}

/** Every certificate in a PEM text (one or a bundle); throws when there is none or one is unreadable. */
export function readTrustRoots(pemText: string, source: TrustRoot['source']): TrustRoot[] {
  const ders = pemCertificatesToDer(pemText);
  if (ders.length === 0) throw new Error('no -----BEGIN CERTIFICATE----- block');
  return ders.map((der) => {
    // Parsed once: the verification that follows finds the same root in the cache.
    const facts = readCertificateFacts(cachedCertificate(der));
    return {
      pem: derToPem(der),
      subject: facts.subject,
      sha256: sha256Hex(der),
      notAfter: facts.notAfter.toISOString(),
      isDevelopment: facts.isDevelopment,
      source,
    };
  });
}
