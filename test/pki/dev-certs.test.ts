import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEVELOPMENT_CERTIFICATE_POLICY_OID } from '../../src/core/development-marker.js';
import { loadCenterPki } from '../../src/pki/center-pki.js';
import { isDevelopmentCertificate, reissueDevelopmentCenter } from '../../src/pki/dev-pki.js';
import { readPkiSetSource, writePkiSet } from '../../src/pki/key-management.js';
import { DEVELOPMENT_CERTS_DIR, devPki, openssl, strangerPkiFiles, useTempDir } from './pki-test-kit.js';

const dir = DEVELOPMENT_CERTS_DIR;
const copy = useTempDir('archive-seal-reissue-'); // a copy of the set to re-issue in

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

  it('re-issues the center (EC P-256, same name and policy) under the committed root, valid from the root\'s start', () => {
    for (const f of ['root-ca.pem', 'root-ca.key.pem', 'center.pem', 'center.key.pem', 'tsa.pem', 'tsa.key.pem']) copyFileSync(join(dir, f), join(copy, f));
    const before = readFileSync(join(copy, 'center.pem'), 'utf8');
    writePkiSet(copy, reissueDevelopmentCenter(copy), { overwrite: true });
    const after = readFileSync(join(copy, 'center.pem'), 'utf8');
    expect(after).not.toBe(before);
    expect(openssl(['verify', '-purpose', 'smimesign', '-CAfile', 'root-ca.pem', 'center.pem'], copy).stdout).toBe('center.pem: OK\n');
    const pki = loadCenterPki(readPkiSetSource(copy));
    expect(pki.center.privateKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(pki.center.certificate.facts.subject).toBe(devPki().center.certificate.facts.subject);
    expect(pki.center.certificate.facts.notBefore).toEqual(pki.roots[0]!.facts.notBefore);
    expect(isDevelopmentCertificate(after)).toBe(true);
    // An explicit start date is kept.
    const later = new Date('2027-01-01T00:00:00Z');
    expect(openssl(['x509', '-noout', '-startdate'], copy, Buffer.from(reissueDevelopmentCenter(copy, { notBefore: later }).centerCertPem)).stdout).toBe('notBefore=Jan  1 00:00:00 2027 GMT\n');
  });
});
