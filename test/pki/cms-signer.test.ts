import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyDetachedCms } from '../../src/core/cms-verify.js';
import { signDetached } from '../../src/pki/cms-signer.js';
import { issueTlsCertificate } from '../../src/vault/peer-tls.js';
import { DEVELOPMENT_CERTS_DIR, devPki, openssl, strangerPki, useTempDir, writeFiles } from './pki-test-kit.js';

const dir = useTempDir();
const rootPem = readFileSync(join(DEVELOPMENT_CERTS_DIR, 'root-ca.pem'), 'utf8');
const payload = new TextEncoder().encode('{"format":"archive-seal/certificate@1","record":{"title":"档案 № 1"}}\n');

function opensslCmsVerify(sigFile: string, contentFile: string, purposeAny = true) {
  return openssl(
    [
      'cms', '-verify', '-binary', '-inform', 'DER', '-in', sigFile, '-content', contentFile,
      '-CAfile', join(DEVELOPMENT_CERTS_DIR, 'root-ca.pem'), ...(purposeAny ? ['-purpose', 'any'] : []),
      '-out', '/dev/null',
    ],
    dir,
  );
}

describe('signDetached → openssl cms -verify', () => {
  let signature: Uint8Array;
  beforeAll(() => {
    signature = signDetached(payload, devPki().center, { signingTime: new Date('2026-03-01T08:00:00Z') });
    const tampered = payload.slice();
    tampered[10] = (tampered[10] as number) ^ 0x01;
    writeFiles(dir, { 'sig.der': signature, payload, 'tampered': tampered });
  });

  it('openssl accepts the detached signature with -purpose any', () => {
    const r = opensslCmsVerify('sig.der', 'payload');
    expect(r.stderr).toContain('CMS Verification successful');
    expect(r.status).toBe(0);
  });

  it('openssl accepts it without -purpose too (the center certificate has emailProtection)', () => {
    const r = opensslCmsVerify('sig.der', 'payload', false);
    expect(r.stderr).toContain('CMS Verification successful');
    expect(r.status).toBe(0);
  });

  it('openssl rejects it when one byte of the payload changes', () => {
    const r = opensslCmsVerify('sig.der', 'tampered');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('content verify error');
  });

  it('carries the signed attributes and the signer certificate but not the root', () => {
    const printed = openssl(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', 'sig.der'], dir).stdout;
    expect(printed).toContain('contentType (1.2.840.113549.1.9.3)');
    expect(printed).toContain('messageDigest (1.2.840.113549.1.9.4)');
    expect(printed).toContain('signingTime (1.2.840.113549.1.9.5)');
    expect(printed).toContain('id-smime-aa-signingCertificateV2 (1.2.840.113549.1.9.16.2.47)');
    expect(printed).toContain('eContent: <ABSENT>');
    expect(printed.match(/d\.certificate:/g)).toHaveLength(1);
    expect(printed).toContain('UTCTIME:Mar  1 08:00:00 2026 GMT');
  });

  it('puts the root in only when asked', () => {
    writeFiles(dir, { 'sig-root.der': signDetached(payload, devPki().center, { includeRoot: true }) });
    const printed = openssl(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', 'sig-root.der'], dir).stdout;
    expect(printed.match(/d\.certificate:/g)).toHaveLength(2);
    expect(opensslCmsVerify('sig-root.der', 'payload').status).toBe(0);
  });
});

describe('verifyDetachedCms (browser-safe core)', () => {
  const signature = signDetached(payload, devPki().center);

  it('accepts our signature and reports a development signer', async () => {
    const result = await verifyDetachedCms(signature, payload, [rootPem]);
    expect(result).toMatchObject({ status: 'ok', code: 'OK' });
    expect(result.signer).toEqual({
      subject: devPki().center.certificate.facts.subject,
      serial: devPki().center.certificate.facts.serial,
      isDevelopment: true,
      chainsToDevelopment: true,
      notBefore: devPki().center.certificate.facts.notBefore,
    });
  });

  it('accepts a detached signature made by openssl cms -sign', async () => {
    writeFiles(dir, { 'content.bin': payload });
    const r = openssl(
      [
        'cms', '-sign', '-binary', '-md', 'sha256', '-outform', 'DER', '-in', 'content.bin',
        '-signer', join(DEVELOPMENT_CERTS_DIR, 'center.pem'), '-inkey', join(DEVELOPMENT_CERTS_DIR, 'center.key.pem'),
        '-out', 'openssl-sig.der',
      ],
      dir,
    );
    expect(r.status).toBe(0);
    const opensslSig = new Uint8Array(readFileSync(join(dir, 'openssl-sig.der')));
    const result = await verifyDetachedCms(opensslSig, payload, [rootPem]);
    expect(result).toMatchObject({ status: 'ok', code: 'OK' });
  });

  it('rejects changed content with CMS_DIGEST_MISMATCH', async () => {
    const changed = payload.slice();
    changed[0] = 0x5b;
    const result = await verifyDetachedCms(signature, changed, [rootPem]);
    expect(result).toMatchObject({ status: 'failed', code: 'CMS_DIGEST_MISMATCH' });
  });

  it('rejects a broken signature value with CMS_SIGNATURE_INVALID', async () => {
    const broken = signature.slice();
    // The RSA signature is the last 256 octets of the structure.
    broken[broken.length - 5] = (broken[broken.length - 5] as number) ^ 0xff;
    const result = await verifyDetachedCms(broken, payload, [rootPem]);
    expect(result).toMatchObject({ status: 'failed', code: 'CMS_SIGNATURE_INVALID' });
  });

  it('rejects the content re-signed by a key from another root with CMS_UNTRUSTED_SIGNER', async () => {
    const forged = signDetached(payload, strangerPki().center);
    const result = await verifyDetachedCms(forged, payload, [rootPem]);
    expect(result).toMatchObject({ status: 'failed', code: 'CMS_UNTRUSTED_SIGNER' });
    expect(result.signer?.subject).toBe('CN=Stranger Center,O=Stranger');
    expect(result.signer?.isDevelopment).toBe(false);
    // …and openssl agrees.
    writeFiles(dir, { 'forged.der': forged, 'payload2': payload });
    expect(opensslCmsVerify('forged.der', 'payload2').status).not.toBe(0);
  });

  it("rejects content signed by another key of the center's own root that is not for documents (the TSA's, a peer's TLS key)", async () => {
    const tls = issueTlsCertificate({
      issuerCertPem: rootPem,
      issuerKeyPem: readFileSync(join(DEVELOPMENT_CERTS_DIR, 'root-ca.key.pem'), 'utf8'),
      commonName: 'peer-center-b',
    });
    const peer = { certificateDer: new X509Certificate(tls.certPem).raw, privateKey: createPrivateKey(tls.keyPem), chainDer: [new X509Certificate(rootPem).raw] };
    for (const [who, identity, subject] of [
      ['TSA', devPki().tsa, /TSA/],
      ['peer TLS', peer, /CN=peer-center-b/],
    ] as const) {
      const forged = signDetached(payload, identity);
      const result = await verifyDetachedCms(forged, payload, [rootPem]);
      expect(result, who).toMatchObject({ status: 'failed', code: 'CMS_SIGNER_NOT_FOR_DOCUMENTS', signer: { subject: expect.stringMatching(subject) } });
      // …as openssl's default (smimesign) purpose refuses it.
      writeFiles(dir, { 'other-key.der': forged });
      const r = opensslCmsVerify('other-key.der', 'payload', false);
      expect(r.status, who).not.toBe(0);
      expect(r.stderr, who).toContain('unsuitable certificate purpose');
    }
  });

  it('rejects a signature checked at a time the certificate is not valid', async () => {
    const result = await verifyDetachedCms(signature, payload, [rootPem], { at: new Date('2040-01-01T00:00:00Z') });
    expect(result).toMatchObject({ status: 'failed', code: 'CMS_UNTRUSTED_SIGNER' });
    expect(result.message).toContain('not yet valid or expired');
  });

  it('returns CMS_MALFORMED for junk and CMS_BAD_TRUST_ROOT for a bad root, without throwing', async () => {
    expect(await verifyDetachedCms(new Uint8Array([1, 2, 3]), payload, [rootPem])).toMatchObject({
      status: 'failed',
      code: 'CMS_MALFORMED',
    });
    expect(await verifyDetachedCms(signature.subarray(0, 200), payload, [rootPem])).toMatchObject({
      code: 'CMS_MALFORMED',
    });
    expect(await verifyDetachedCms(signature, payload, [new Uint8Array([0x30, 0x00])])).toMatchObject({
      code: 'CMS_BAD_TRUST_ROOT',
    });
    expect(await verifyDetachedCms(signature, payload, [])).toMatchObject({ code: 'CMS_UNTRUSTED_SIGNER' });
  });

  it('takes trust roots as DER as well as PEM', async () => {
    const result = await verifyDetachedCms(signature, payload, [devPki().roots[0]!.der]);
    expect(result.code).toBe('OK');
  });
});

describe('signDetached with an EC P-256 key (certificate from an outside CA)', () => {
  it('produces ecdsa-with-SHA256 signatures that openssl and the core verifier accept', async () => {
    const run = (...args: string[]) => expect(openssl(args, dir).status).toBe(0);
    writeFiles(dir, { 'ec.ext': 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\nextendedKeyUsage=emailProtection\n' });
    run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ecroot.key', '-out', 'ecroot.pem', '-subj', '/CN=EC Root', '-days', '30', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    run('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ec.key', '-out', 'ec.csr', '-subj', '/CN=EC Center');
    run('x509', '-req', '-in', 'ec.csr', '-CA', 'ecroot.pem', '-CAkey', 'ecroot.key', '-CAcreateserial', '-out', 'ec.pem', '-days', '30', '-extfile', 'ec.ext');
    const ecRoot = readFileSync(join(dir, 'ecroot.pem'), 'utf8');
    const identity = {
      certificateDer: new Uint8Array(new X509Certificate(readFileSync(join(dir, 'ec.pem'))).raw),
      privateKey: createPrivateKey(readFileSync(join(dir, 'ec.key'))),
      chainDer: [],
    };
    const signature = signDetached(payload, identity);
    writeFiles(dir, { 'ec.sig': signature, 'ec.payload': payload });
    const r = openssl(['cms', '-verify', '-binary', '-inform', 'DER', '-in', 'ec.sig', '-content', 'ec.payload', '-CAfile', 'ecroot.pem', '-out', '/dev/null'], dir);
    expect(r.stderr).toContain('CMS Verification successful');
    expect(await verifyDetachedCms(signature, payload, [ecRoot])).toMatchObject({ status: 'ok', code: 'OK' });
    expect(await verifyDetachedCms(signature, payload.subarray(1), [ecRoot])).toMatchObject({ code: 'CMS_DIGEST_MISMATCH' });
  });
});
