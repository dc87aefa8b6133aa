import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyDetachedCms } from '../../src/core/cms-verify.js';
import { loadCenterPki } from '../../src/pki/center-pki.js';
import { signDetached } from '../../src/pki/cms-signer.js';
import {
  checkImportedPki,
  makeCenterPki,
  makeCertificateRequests,
  PKI_FILE_NAMES,
  readPkiSetSource,
  writePkiSet,
} from '../../src/pki/key-management.js';
import { BuiltInTimestampAuthority } from '../../src/pki/timestamp-authority.js';
import { DEVELOPMENT_CERTS_DIR, devPki, openssl, strangerPkiFiles, useTempDir, writeFiles } from './pki-test-kit.js';

const dir = useTempDir();
const centerName = '某市档案馆电子文件登记备份中心';

describe('keys init: makeCenterPki + writePkiSet', () => {
  const setDir = join(dir, 'set');
  const files = makeCenterPki({ centerName, locality: '某市' });
  writePkiSet(setDir, files);

  it('writes a set that openssl verifies, with the TSA fit for timestampsign', () => {
    const r = openssl(['verify', '-CAfile', 'root-ca.pem', 'center.pem', 'tsa.pem'], setDir);
    expect(r.stdout).toBe('center.pem: OK\ntsa.pem: OK\n');
    expect(openssl(['verify', '-purpose', 'timestampsign', '-CAfile', 'root-ca.pem', 'tsa.pem'], setDir).status).toBe(0);
    const subject = openssl(['x509', '-in', 'center.pem', '-noout', '-subject', '-nameopt', 'utf8,sep_comma_plus'], setDir).stdout;
    expect(subject).toBe(`subject=C=CN,L=某市,O=${centerName},CN=${centerName}\n`);
    // The center signs a receipt per group of registrations: EC P-256; the root and TSA: RSA.
    expect(openssl(['x509', '-in', 'center.pem', '-noout', '-text'], setDir).stdout).toContain('ASN1 OID: prime256v1');
    expect(openssl(['x509', '-in', 'tsa.pem', '-noout', '-text'], setDir).stdout).toContain('Public-Key: (2048 bit)');
  });

  it('keeps private keys private (mode 0600) and refuses to overwrite', () => {
    for (const key of [PKI_FILE_NAMES.rootKeyPem, PKI_FILE_NAMES.centerKeyPem, PKI_FILE_NAMES.tsaKeyPem]) {
      expect(statSync(join(setDir, key)).mode & 0o777).toBe(0o600);
    }
    expect(() => writePkiSet(setDir, files)).toThrow(expect.objectContaining({ code: 'FILE_EXISTS' }));
  });

  it('reads back as a valid, non-development PKI', () => {
    const report = checkImportedPki(readPkiSetSource(setDir));
    expect(report.ok).toBe(true);
    expect(report.problems).toEqual([]);
    expect(report.isDevelopment).toBe(false);
    expect(report.center?.subject).toBe(`CN=${centerName},O=${centerName},L=某市,C=CN`);
    expect(report.tsa?.subject).toContain('Time-Stamping Authority');
  });

  it('rejects an empty center name', () => {
    expect(() => makeCenterPki({ centerName: ' ' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('keys import: checkImportedPki', () => {
  const dev = devPki();
  const devSource = {
    rootPem: dev.roots[0]!.pem,
    centerCertPem: dev.center.certificate.pem,
    centerKeyPem: readFileSync(join(DEVELOPMENT_CERTS_DIR, 'center.key.pem'), 'utf8'),
    tsaCertPem: dev.tsa.certificate.pem,
    tsaKeyPem: readFileSync(join(DEVELOPMENT_CERTS_DIR, 'tsa.key.pem'), 'utf8'),
  };

  it('accepts the development set and says it is development', () => {
    expect(checkImportedPki(devSource)).toMatchObject({ ok: true, isDevelopment: true });
  });

  it('finds keys that do not belong to their certificates', () => {
    const report = checkImportedPki({ ...devSource, centerKeyPem: devSource.tsaKeyPem, tsaKeyPem: devSource.centerKeyPem });
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.code)).toEqual(['KEY_MISMATCH', 'KEY_MISMATCH']);
  });

  it('finds certificates that do not chain to the given root', () => {
    const report = checkImportedPki({ ...devSource, rootPem: strangerPkiFiles().rootCertPem });
    expect(report.problems.map((p) => p.code)).toEqual(['CHAIN_INVALID', 'CHAIN_INVALID']);
  });

  it('finds a TSA certificate without the critical timeStamping EKU', () => {
    const report = checkImportedPki({ ...devSource, tsaCertPem: devSource.centerCertPem, tsaKeyPem: devSource.centerKeyPem });
    expect(report.problems.map((p) => p.code)).toEqual(['TSA_EKU_INVALID']);
    expect(() => loadCenterPki({ ...devSource, tsaCertPem: devSource.centerCertPem, tsaKeyPem: devSource.centerKeyPem })).toThrow(
      expect.objectContaining({ code: 'PKI_INVALID' }),
    );
  });

  it('finds certificates not valid at the given time and unreadable input', () => {
    const late = checkImportedPki(devSource, { at: new Date('2045-01-01T00:00:00Z') });
    expect(late.problems.map((p) => p.code)).toContain('CERTIFICATE_NOT_VALID_NOW');
    const junk = checkImportedPki({ ...devSource, centerCertPem: 'junk', tsaKeyPem: 'junk' });
    expect(junk.problems.map((p) => p.code)).toEqual(['CERTIFICATE_UNREADABLE', 'KEY_UNREADABLE']);
  });
});

describe('keys csr → an outside CA with an intermediate → keys import', () => {
  const requests = makeCertificateRequests({ centerName: 'County Archive Center', country: 'CN' });

  it('produces CSRs that openssl verifies and that ask for the right extensions', () => {
    writeFiles(dir, { 'center.csr': requests.centerCsrPem, 'tsa.csr': requests.tsaCsrPem });
    const center = openssl(['req', '-in', 'center.csr', '-verify', '-noout', '-text'], dir);
    expect(center.status).toBe(0);
    expect(center.stdout).toContain('Digital Signature, Non Repudiation');
    expect(center.stdout).toContain('Signature Algorithm: ecdsa-with-SHA256');
    const tsa = openssl(['req', '-in', 'tsa.csr', '-verify', '-noout', '-text'], dir);
    expect(tsa.stdout).toMatch(/X509v3 Extended Key Usage: critical\s+Time Stamping/);
  });

  it('imports what the outside CA issued, and signs and timestamps with it', async () => {
    writeFiles(dir, { 'ca.ext': 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' });
    const run = (...args: string[]) => {
      const r = openssl(args, dir);
      expect(r.status, r.stderr).toBe(0);
    };
    run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'oroot.key', '-out', 'oroot.pem', '-subj', '/CN=Outside Root', '-days', '3650', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    run('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'oint.key', '-out', 'oint.csr', '-subj', '/CN=Outside Intermediate');
    run('x509', '-req', '-in', 'oint.csr', '-CA', 'oroot.pem', '-CAkey', 'oroot.key', '-CAcreateserial', '-out', 'oint.pem', '-days', '3650', '-extfile', 'ca.ext');
    for (const name of ['center', 'tsa']) {
      run('x509', '-req', '-in', `${name}.csr`, '-CA', 'oint.pem', '-CAkey', 'oint.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '365', '-copy_extensions', 'copyall');
    }
    const source = {
      rootPem: readFileSync(join(dir, 'oroot.pem'), 'utf8'),
      chainPems: [readFileSync(join(dir, 'oint.pem'), 'utf8')],
      centerCertPem: readFileSync(join(dir, 'center.pem'), 'utf8'),
      centerKeyPem: requests.centerKeyPem,
      tsaCertPem: readFileSync(join(dir, 'tsa.pem'), 'utf8'),
      tsaKeyPem: requests.tsaKeyPem,
    };
    expect(checkImportedPki(source)).toMatchObject({ ok: true, problems: [], isDevelopment: false });
    expect(checkImportedPki({ ...source, chainPems: [] }).problems.map((p) => p.code)).toEqual(['CHAIN_INVALID', 'CHAIN_INVALID']);

    const pki = loadCenterPki(source);
    expect(pki.center.path.map((c) => c.facts.subject)).toEqual(['CN=Outside Intermediate', 'CN=Outside Root']);
    const payload = new TextEncoder().encode('imported');
    const signature = signDetached(payload, pki.center);
    expect(await verifyDetachedCms(signature, payload, [source.rootPem])).toMatchObject({ code: 'OK' });
    writeFiles(dir, { 'imported.der': signature, 'imported.txt': payload });
    const cms = openssl(['cms', '-verify', '-binary', '-inform', 'DER', '-in', 'imported.der', '-content', 'imported.txt', '-CAfile', 'oroot.pem', '-purpose', 'any', '-out', '/dev/null'], dir);
    expect(cms.stderr).toContain('CMS Verification successful');

    const tsa = new BuiltInTimestampAuthority({ identity: pki.tsa });
    writeFiles(dir, { 'imported.tst': (await tsa.timestamp(new Uint8Array(32).fill(3))).token });
    // The token carries the intermediate itself, so openssl needs only the root.
    const ts = openssl(['ts', '-verify', '-digest', '03'.repeat(32), '-in', 'imported.tst', '-token_in', '-CAfile', 'oroot.pem'], dir);
    expect(ts.stdout).toBe('Verification: OK\n');
  });
});
