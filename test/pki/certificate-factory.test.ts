import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyDetachedCms } from '../../src/core/cms-verify.js';
import { pemToDer } from '../../src/core/pem.js';
import { createCertificateRequest, generateEcKey, generateRsaKey, issueCertificate } from '../../src/pki/certificate-factory.js';
import { signDetached } from '../../src/pki/cms-signer.js';
import { openssl, useTempDir, writeFiles } from './pki-test-kit.js';

// EC P-256 subject keys: forge writes only RSA, so their certificates and requests are re-keyed.
const dir = useTempDir();
const notBefore = new Date(Date.now() - 3_600_000);
const notAfter = new Date(Date.now() + 365 * 86_400_000);
const rootKey = generateRsaKey();
const rootPem = issueCertificate({ profile: 'root-ca', subject: { commonName: '测试根 Test Root', organization: '某市档案馆' }, subjectKey: rootKey, notBefore, notAfter });
const issuer = { certificatePem: rootPem, privateKey: rootKey };

describe('an EC P-256 center key', () => {
  const key = generateEcKey();
  const centerPem = issueCertificate({
    profile: 'document-signer',
    subject: { commonName: '某市电子文件登记备份中心', country: 'CN' },
    subjectKey: key,
    issuer,
    notBefore,
    notAfter,
    policies: ['1.3.6.1.4.1.32473.7310.1'],
  });
  writeFiles(dir, { 'root.pem': rootPem, 'center.pem': centerPem });

  it('is certified under an RSA root: openssl verifies it for S/MIME signing, with its own key and key identifier', () => {
    expect(openssl(['verify', '-purpose', 'smimesign', '-CAfile', 'root.pem', 'center.pem'], dir).stdout).toBe('center.pem: OK\n');
    const text = openssl(['x509', '-in', 'center.pem', '-noout', '-text'], dir).stdout;
    expect(text).toContain('Public Key Algorithm: id-ecPublicKey');
    expect(text).toContain('NIST CURVE: P-256');
    expect(text).toContain('Signature Algorithm: sha256WithRSAEncryption');
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature, Non Repudiation/);
    expect(text).toContain('Policy: 1.3.6.1.4.1.32473.7310.1');
    // RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits (the 65-octet point).
    const point = createPublicKey(key).export({ type: 'spki', format: 'der' }).subarray(-65);
    const keyId = createHash('sha1').update(point).digest('hex').toUpperCase().match(/../g)!.join(':');
    expect(text).toMatch(new RegExp(`Subject Key Identifier:\\s+${keyId}`));
    // The issuer's name is the root's subject, byte for byte (Chinese included).
    expect(openssl(['x509', '-in', 'center.pem', '-noout', '-issuer', '-nameopt', 'utf8,sep_comma_plus'], dir).stdout).toBe('issuer=O=某市档案馆,CN=测试根 Test Root\n');
  });

  it('signs CMS that openssl and the core verifier accept', async () => {
    const payload = new TextEncoder().encode('收据 receipt');
    const signature = signDetached(payload, { certificateDer: pemToDer(centerPem), chainDer: [], privateKey: key });
    expect(await verifyDetachedCms(signature, payload, [rootPem])).toMatchObject({ code: 'OK' });
    writeFiles(dir, { 'sig.der': signature, 'payload.txt': payload });
    const r = openssl(['cms', '-verify', '-binary', '-inform', 'DER', '-in', 'sig.der', '-content', 'payload.txt', '-CAfile', 'root.pem', '-out', '/dev/null'], dir);
    expect(r.stderr).toContain('CMS Verification successful');
  });

  it('gets a certificate request that openssl verifies, signed with ecdsa-with-SHA256', () => {
    writeFiles(dir, { 'ec.csr': createCertificateRequest('document-signer', { commonName: '中心', country: 'CN' }, key) });
    const r = openssl(['req', '-in', 'ec.csr', '-verify', '-noout', '-text'], dir);
    expect(r.status).toBe(0);
    expect(r.stderr + r.stdout).toContain('verify OK');
    expect(r.stdout).toContain('Public Key Algorithm: id-ecPublicKey');
    expect(r.stdout).toContain('Signature Algorithm: ecdsa-with-SHA256');
    expect(r.stdout).toMatch(/Requested Extensions:[\s\S]*Digital Signature, Non Repudiation/);
    expect(openssl(['req', '-in', 'ec.csr', '-noout', '-pubkey'], dir).stdout).toBe(createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString());
  });
});

describe('keys this code does not certify', () => {
  const spec = { profile: 'document-signer' as const, subject: { commonName: 'x' }, issuer, notBefore, notAfter };
  it('refuses an EC root, other curves and other key types with UNSUPPORTED_KEY', () => {
    const unsupported = expect.objectContaining({ code: 'UNSUPPORTED_KEY' });
    expect(() => issueCertificate({ ...spec, profile: 'root-ca', issuer: undefined, subjectKey: generateEcKey() })).toThrow(unsupported);
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
    expect(() => issueCertificate({ ...spec, subjectKey: p384 })).toThrow(unsupported);
    expect(() => createCertificateRequest('document-signer', { commonName: 'x' }, p384)).toThrow(/P-256/);
    expect(() => issueCertificate({ ...spec, subjectKey: generateKeyPairSync('ed25519').privateKey })).toThrow(unsupported);
  });
});
