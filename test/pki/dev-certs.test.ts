import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEVELOPMENT_CERTIFICATE_POLICY_OID } from '../../src/core/development-marker.js';
import { isDevelopmentCertificate } from '../../src/pki/dev-pki.js';
import { DEVELOPMENT_CERTS_DIR, devPki, openssl, strangerPkiFiles } from './pki-test-kit.js';

const dir = DEVELOPMENT_CERTS_DIR;

describe('committed development PKI (certs/dev)', () => {
  it('passes openssl verify: center and TSA chain to the root', () => {
    const r = openssl(['verify', '-CAfile', 'root-ca.pem', 'center.pem', 'tsa.pem'], dir);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('center.pem: OK\ntsa.pem: OK\n');
    expect(r.status).toBe(0);
  });

  it('TSA certificate passes openssl verify -purpose timestampsign (critical timeStamping EKU)', () => {
    const r = openssl(['verify', '-purpose', 'timestampsign', '-CAfile', 'root-ca.pem', 'tsa.pem'], dir);
    expect(r.stdout).toBe('tsa.pem: OK\n');
    expect(r.status).toBe(0);
    const text = openssl(['x509', '-in', 'tsa.pem', '-noout', '-ext', 'extendedKeyUsage'], dir).stdout;
    expect(text).toContain('X509v3 Extended Key Usage: critical');
    expect(text).toContain('Time Stamping');
  });

  it('center certificate passes openssl verify -purpose smimesign (what cms -verify checks by default)', () => {
    const r = openssl(['verify', '-purpose', 'smimesign', '-CAfile', 'root-ca.pem', 'center.pem'], dir);
    expect(r.stdout).toBe('center.pem: OK\n');
  });

  it('every subject says it is not for evidence and carries the development policy', () => {
    for (const file of ['root-ca.pem', 'center.pem', 'tsa.pem']) {
      const subject = openssl(['x509', '-in', file, '-noout', '-subject'], dir).stdout;
      expect(subject).toContain('O = Archive Seal DEVELOPMENT');
      expect(subject).toContain('OU = NOT FOR EVIDENCE - development and tests only');
      const policies = openssl(['x509', '-in', file, '-noout', '-ext', 'certificatePolicies'], dir).stdout;
      expect(policies).toContain(`Policy: ${DEVELOPMENT_CERTIFICATE_POLICY_OID}`);
      expect(isDevelopmentCertificate(readFileSync(join(dir, file), 'utf8'))).toBe(true);
    }
  });

  it('isDevelopmentCertificate is false for other certificates and for junk', () => {
    expect(isDevelopmentCertificate(strangerPkiFiles().centerCertPem)).toBe(false);
    expect(isDevelopmentCertificate('not a certificate')).toBe(false);
    expect(isDevelopmentCertificate(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]))).toBe(false);
  });

  it('loads through loadCenterPki with keys matching certificates', () => {
    const pki = devPki();
    expect(pki.isDevelopment).toBe(true);
    expect(pki.center.certificate.facts.subject).toBe(
      'CN=Archive Seal DEVELOPMENT Center - NOT FOR EVIDENCE,OU=NOT FOR EVIDENCE - development and tests only,O=Archive Seal DEVELOPMENT',
    );
    expect(pki.tsa.path.map((c) => c.facts.subject)).toEqual([pki.roots[0]?.facts.subject]);
    // The center signs every group's receipt: EC P-256. The TSA and the root: RSA-2048.
    expect(pki.center.privateKey.asymmetricKeyType).toBe('ec');
    expect(pki.center.privateKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(pki.tsa.privateKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(pki.tsa.certificate.facts.extendedKeyUsage).toEqual({
      critical: true,
      purposes: ['1.3.6.1.5.5.7.3.8'],
      count: 1,
    });
  });
});
