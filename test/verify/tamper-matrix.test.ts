import { createHash, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalBytes } from '../../src/core/canonical-json.js';
import type { Certificate } from '../../src/core/certificate.js';
import { bytesToBase64 } from '../../src/core/pem.js';
import { verifyCertificate, type VerificationReport } from '../../src/core/verify-certificate.js';
import { makeCenterPki } from '../../src/pki/key-management.js';
import { loadCenterPki } from '../../src/pki/center-pki.js';
import { signDetached } from '../../src/pki/cms-signer.js';
import { BuiltInTimestampAuthority } from '../../src/pki/timestamp-authority.js';
import { loadDevelopmentPki } from '../../src/pki/dev-pki.js';
import { DEVELOPMENT_CERTS_DIR } from '../../src/pki/dev-pki.js';
import { generateEcKey, issueCertificate } from '../../src/pki/certificate-factory.js';
import { pemToDer } from '../../src/core/pem.js';
import { copyOf, loadCertificateVector } from './certificate-fixture.js';

// Each tampering is caught by the step that owns it, with its code. Offline (anchors are
// checked against a live chain in test/integration/certificate-anchor-tampering.test.ts).
const vector = loadCertificateVector();

// The vector is signed with the development PKI: the matrix accepts it explicitly, as a test
// of the software may, and the trust cases below show what happens without.
async function verify(certificate: unknown, file = vector.digests): Promise<VerificationReport> {
  return verifyCertificate({ certificate, file, trustRoots: [vector.trustRoot], allowDevelopment: true });
}

function step(report: VerificationReport, name: string) {
  return report.steps.find((s) => s.step === name);
}

/** Re-signs edited content with the given signer, as a forger holding that key would. */
function resign(cert: Certificate, signer: Parameters<typeof signDetached>[1]): Certificate {
  const signed = canonicalBytes(cert.content);
  return { ...cert, signedContent: bytesToBase64(signed), signature: bytesToBase64(signDetached(signed, signer)) };
}

describe('the untouched certificate', () => {
  it('offline, development allowed: every offline step ok, the anchor skipped and said so, so CANNOT BE DETERMINED', async () => {
    const report = await verify(vector.certificate);
    expect(report.verdict).toBe('CANNOT_BE_DETERMINED');
    expect(report.authentic).toBe(false);
    expect(report.steps.map((s) => [s.step, s.status])).toEqual([
      ['format', 'ok'],
      ['signature', 'ok'],
      ['file-digests', 'ok'],
      ['record-digest', 'ok'],
      ['leaf', 'ok'],
      ['merkle-path', 'ok'],
      ['timestamp', 'ok'],
      ['long-term', 'ok'],
      ['anchor', 'skipped'],
    ]);
    expect(step(report, 'anchor')).toMatchObject({ code: 'ANCHOR_NOT_CHECKED', remedy: expect.stringMatching(/--rpc URL/) });
    expect(report.notes.join('\n')).toMatch(/DEVELOPMENT/);
  });
});

describe('trust: nothing is trusted that the reader did not name', () => {
  it('no root named → signature CMS_NO_TRUST_ROOT and timestamp TST_NO_TRUST_ROOT, undetermined, with what to do', async () => {
    const report = await verifyCertificate({ certificate: vector.certificate, file: vector.digests, trustRoots: [] });
    expect(report.verdict).toBe('CANNOT_BE_DETERMINED');
    expect(step(report, 'signature')).toMatchObject({ status: 'undetermined', code: 'CMS_NO_TRUST_ROOT', remedy: expect.stringMatching(/--trust ROOT\.pem.*--center URL/) });
    expect(step(report, 'timestamp')).toMatchObject({ status: 'undetermined', code: 'TST_NO_TRUST_ROOT' });
  });

  it('the development root named but development not allowed → CMS_DEVELOPMENT_PKI and TST_DEVELOPMENT_TSA, CANNOT BE DETERMINED', async () => {
    const report = await verifyCertificate({ certificate: vector.certificate, file: vector.digests, trustRoots: [vector.trustRoot] });
    expect(report.verdict).toBe('CANNOT_BE_DETERMINED');
    expect(step(report, 'signature')).toMatchObject({ status: 'undetermined', code: 'CMS_DEVELOPMENT_PKI' });
    expect(step(report, 'timestamp')).toMatchObject({ status: 'undetermined', code: 'TST_DEVELOPMENT_TSA' });
  });

  it('a forger with the published development root key issues a signer WITHOUT the development marker: still CMS_DEVELOPMENT_PKI', async () => {
    const devRootKey = readFileSync(join(DEVELOPMENT_CERTS_DIR, 'root-ca.key.pem'), 'utf8');
    const key = generateEcKey();
    const certPem = issueCertificate({
      profile: 'document-signer',
      subject: { commonName: 'Genuine Looking Center', organization: 'Forgers Ltd' },
      subjectKey: key,
      issuer: { certificatePem: vector.trustRoot, privateKey: createPrivateKey(devRootKey) },
      notBefore: new Date(Date.parse(vector.certificate.content.issuedAt) - 86_400_000),
      notAfter: new Date(Date.now() + 86_400_000 * 365),
    });
    const forged = copyOf(vector.certificate);
    forged.content.issuer.development = false;
    const signer = { certificateDer: pemToDer(certPem), privateKey: key, chainDer: [pemToDer(vector.trustRoot)] };
    const report = await verifyCertificate({ certificate: resign(forged, signer), file: vector.digests, trustRoots: [vector.trustRoot] });
    expect(step(report, 'signature')).toMatchObject({ status: 'undetermined', code: 'CMS_DEVELOPMENT_PKI' });
    expect(report.verdict).toBe('CANNOT_BE_DETERMINED');
  });

  it('a certificate from another center (a root not named) → CMS_UNTRUSTED_SIGNER, undetermined, naming the center to ask', async () => {
    const other = makeCenterPki({ centerName: 'Another Center' });
    const report = await verifyCertificate({ certificate: vector.certificate, file: vector.digests, trustRoots: [other.rootCertPem], allowDevelopment: true });
    expect(step(report, 'signature')).toMatchObject({ status: 'undetermined', code: 'CMS_UNTRUSTED_SIGNER', remedy: expect.stringContaining(vector.certificate.content.record.center) });
    expect(report.verdict).toBe('CANNOT_BE_DETERMINED');
  });
});

describe('every stated fact is checked', () => {
  it("the token's serial number edited and re-signed → timestamp TST_SERIAL_MISMATCH, NOT AUTHENTIC", async () => {
    const cert = copyOf(vector.certificate);
    cert.content.timestamp.serial = (BigInt(`0x${cert.content.timestamp.serial}`) + 1n).toString(16);
    const report = await verify(resign(cert, loadDevelopmentPki().center));
    expect(step(report, 'signature')?.status).toBe('ok');
    expect(step(report, 'timestamp')).toMatchObject({ status: 'failed', code: 'TST_SERIAL_MISMATCH' });
    expect(report.verdict).toBe('NOT_AUTHENTIC');
  });

  it('the serial written with a leading zero or in capitals is the same serial', async () => {
    const cert = copyOf(vector.certificate);
    cert.content.timestamp.serial = `00${cert.content.timestamp.serial.toUpperCase()}`;
    expect(step(await verify(resign(cert, loadDevelopmentPki().center)), 'timestamp')?.status).toBe('ok');
  });

  it("the TSA's name edited and re-signed → timestamp TST_STATED_TSA_MISMATCH, NOT AUTHENTIC", async () => {
    const cert = copyOf(vector.certificate);
    cert.content.timestamp.tsa = 'CN=National Time Service Center TSA,O=NTSC,C=CN';
    const report = await verify(resign(cert, loadDevelopmentPki().center));
    expect(step(report, 'timestamp')).toMatchObject({ status: 'failed', code: 'TST_STATED_TSA_MISMATCH' });
    expect(report.verdict).toBe('NOT_AUTHENTIC');
  });

  it.each([
    ['beyond the period', (c: Certificate) => (c.content.proof.leafIndex = c.content.period.leafCount)],
    ['negative', (c: Certificate) => (c.content.proof.leafIndex = -1)],
    ['a tree size that is not the period\'s', (c: Certificate) => (c.content.proof.treeSize = c.content.period.leafCount + 1)],
  ])('the leaf index or tree size edited (%s) and re-signed → merkle-path PROOF_INVALID', async (_what, edit) => {
    const cert = copyOf(vector.certificate);
    edit(cert);
    const report = await verify(resign(cert, loadDevelopmentPki().center));
    expect(step(report, 'merkle-path')).toMatchObject({ status: 'failed', code: 'PROOF_INVALID' });
    expect(report.verdict).toBe('NOT_AUTHENTIC');
  });

  it("an anchor's independence that is not a boolean → CERT_MALFORMED", async () => {
    const cert = copyOf(vector.certificate) as any;
    cert.content.anchors[0].independent = 'yes';
    expect((await verify(cert)).steps[0]).toMatchObject({ step: 'format', status: 'failed', code: 'CERT_MALFORMED' });
  });
});

describe('tamper matrix', () => {
  it('one byte of the file changed → file-digests FILE_DIGEST_MISMATCH', async () => {
    const file = Buffer.from(vector.file);
    file[3]! ^= 0x01;
    const report = await verify(vector.certificate, {
      sha256: createHash('sha256').update(file).digest('hex'),
      sm3: createHash('sm3').update(file).digest('hex'),
    });
    expect(report.authentic).toBe(false);
    expect(step(report, 'file-digests')).toMatchObject({ status: 'failed', code: 'FILE_DIGEST_MISMATCH' });
    expect(step(report, 'signature')?.status).toBe('ok');
  });

  it.each([
    ['file name', (c: Certificate) => (c.content.record.fileName = 'other.pdf')],
    ['registered-at', (c: Certificate) => (c.content.record.registeredAt = '2020-01-01T00:00:00.000Z')],
    ['registrant', (c: Certificate) => (c.content.record.registrant = { id: 'account:9', name: '冒名单位' })],
  ])('a record field edited (%s) → record-digest RECORD_DIGEST_MISMATCH, and the signature no longer covers it', async (_field, edit) => {
    const cert = copyOf(vector.certificate);
    edit(cert);
    const report = await verify(cert);
    expect(report.authentic).toBe(false);
    expect(step(report, 'record-digest')).toMatchObject({ status: 'failed', code: 'RECORD_DIGEST_MISMATCH' });
    expect(step(report, 'signature')).toMatchObject({ status: 'failed', code: 'CERT_CONTENT_MISMATCH' });
  });

  it("edited content re-signed with the TSA's key (same root, not for documents) → signature CMS_SIGNER_NOT_FOR_DOCUMENTS", async () => {
    const cert = copyOf(vector.certificate);
    cert.content.issuer.name = '冒名中心';
    const report = await verify(resign(cert, loadDevelopmentPki().tsa));
    expect(report.authentic).toBe(false);
    expect(step(report, 'signature')).toMatchObject({ status: 'failed', code: 'CMS_SIGNER_NOT_FOR_DOCUMENTS' });
  });

  it('a stated timestamp time that is not the token\'s, re-signed by the center key → timestamp TST_GENTIME_MISMATCH', async () => {
    const cert = copyOf(vector.certificate);
    cert.content.timestamp.genTime = new Date(Date.parse(cert.content.timestamp.genTime) + 60_000).toISOString();
    const report = await verify(resign(cert, loadDevelopmentPki().center));
    expect(step(report, 'signature')?.status).toBe('ok');
    expect(report.authentic).toBe(false);
    expect(step(report, 'timestamp')).toMatchObject({ status: 'failed', code: 'TST_GENTIME_MISMATCH' });
  });

  it.each([
    ['issued before the seal', (c: Certificate) => (c.content.issuedAt = new Date(Date.parse(c.content.period.sealedAt) - 86_400_000).toISOString())],
    ['sealed before the registration', (c: Certificate) => (c.content.period.sealedAt = new Date(Date.parse(c.content.record.registeredAt) - 1000).toISOString())],
    ['a date that is not one', (c: Certificate) => (c.content.issuedAt = 'yesterday')],
  ])('times that cannot all be true (%s), re-signed by the center key → format CERT_TIMES_OUT_OF_ORDER', async (_what, edit) => {
    const cert = copyOf(vector.certificate);
    edit(cert);
    const report = await verify(resign(cert, loadDevelopmentPki().center));
    expect(report.authentic).toBe(false);
    expect(step(report, 'format')).toMatchObject({ status: 'failed', code: 'CERT_TIMES_OUT_OF_ORDER' });
  });

  it.each([
    ['no issuer', (c: any) => delete c.content.issuer],
    ['an anchor that is null', (c: any) => (c.content.anchors = [null])],
    ['an SM3 that is a number', (c: any) => (c.content.record.digests.sm3 = 7)],
    ['a period id that is text', (c: any) => (c.content.period.id = '1')],
    ['seventeen anchors', (c: any) => (c.content.anchors = Array.from({ length: 17 }, () => c.content.anchors[0]))],
  ])('a certificate with %s → format CERT_MALFORMED, not an exception', async (_what, edit) => {
    const cert = copyOf(vector.certificate);
    edit(cert);
    const report = await verify(cert);
    expect(report.authentic).toBe(false);
    expect(report.steps).toEqual([expect.objectContaining({ step: 'format', status: 'failed', code: 'CERT_MALFORMED' })]);
  });

  it('a record field edited and re-signed by the center key still fails the record digest', async () => {
    const cert = copyOf(vector.certificate);
    cert.content.record.title = '伪造标题';
    const report = await verify(resign(cert, loadDevelopmentPki().center));
    expect(step(report, 'signature')?.status).toBe('ok');
    expect(step(report, 'record-digest')).toMatchObject({ status: 'failed', code: 'RECORD_DIGEST_MISMATCH' });
    expect(report.authentic).toBe(false);
  });

  it('a proof hash swapped → merkle-path PROOF_INVALID', async () => {
    const cert = copyOf(vector.certificate);
    const path = cert.content.proof.path;
    if (path.length === 0) path.push({ side: 'right', hash: 'ab'.repeat(32) });
    else path[0]!.hash = createHash('sha256').update('another node').digest('hex');
    const report = await verify(resign(cert, loadDevelopmentPki().center));
    expect(step(report, 'merkle-path')).toMatchObject({ status: 'failed', code: 'PROOF_INVALID' });
    expect(report.authentic).toBe(false);
  });

  it('the root replaced → merkle-path PROOF_INVALID and timestamp TST_IMPRINT_MISMATCH', async () => {
    const cert = copyOf(vector.certificate);
    cert.content.period.root = createHash('sha256').update('forged root').digest('hex');
    const report = await verify(resign(cert, loadDevelopmentPki().center));
    expect(step(report, 'merkle-path')).toMatchObject({ status: 'failed', code: 'PROOF_INVALID' });
    expect(step(report, 'timestamp')).toMatchObject({ status: 'failed', code: 'TST_IMPRINT_MISMATCH' });
  });

  it('a token for another root → timestamp TST_IMPRINT_MISMATCH', async () => {
    const cert = copyOf(vector.certificate);
    const tsa = new BuiltInTimestampAuthority({ identity: loadDevelopmentPki().tsa });
    const other = await tsa.timestamp(createHash('sha256').update('another period').digest());
    cert.content.timestamp.token = bytesToBase64(other.token);
    const report = await verify(resign(cert, loadDevelopmentPki().center));
    expect(step(report, 'timestamp')).toMatchObject({ status: 'failed', code: 'TST_IMPRINT_MISMATCH' });
    expect(step(report, 'merkle-path')?.status).toBe('ok');
    expect(report.authentic).toBe(false);
  });

  it("takes a timestamp of an outside TSA under its own root when told to trust that root for timestamps, and for nothing else", async () => {
    const outside = makeCenterPki({ centerName: 'Outside TSA Operator' });
    const outsidePki = loadCenterPki({ rootPem: outside.rootCertPem, centerCertPem: outside.centerCertPem, centerKeyPem: outside.centerKeyPem, tsaCertPem: outside.tsaCertPem, tsaKeyPem: outside.tsaKeyPem });
    const cert = copyOf(vector.certificate);
    const stamped = await new BuiltInTimestampAuthority({ identity: outsidePki.tsa }).timestamp(Buffer.from(cert.content.period.root, 'hex'));
    cert.content.timestamp.token = bytesToBase64(stamped.token);
    cert.content.timestamp.genTime = stamped.genTime.toISOString();
    cert.content.timestamp.serial = stamped.serial;
    cert.content.timestamp.tsa = stamped.tsa;
    cert.content.issuedAt = new Date().toISOString();
    const fromCenter = resign(cert, loadDevelopmentPki().center);
    // Trusting the center's root only, the outside token does not chain.
    expect(step(await verify(fromCenter), 'timestamp')).toMatchObject({ status: 'undetermined', code: 'TST_UNTRUSTED' });
    const withTsaRoot = (c: Certificate) =>
      verifyCertificate({ certificate: c, file: vector.digests, trustRoots: [vector.trustRoot], timestampTrustRoots: [vector.trustRoot, outside.rootCertPem], allowDevelopment: true });
    const report = await withTsaRoot(fromCenter);
    expect(step(report, 'timestamp')?.status).toBe('ok');
    expect(report.verdict).toBe('CANNOT_BE_DETERMINED'); // offline: the anchor is not checked
    // The outside root is trusted for timestamps only: its keys cannot sign for the center.
    const fromOutside = await withTsaRoot(resign(cert, outsidePki.center));
    expect(step(fromOutside, 'signature')).toMatchObject({ status: 'undetermined', code: 'CMS_UNTRUSTED_SIGNER' });
    expect(fromOutside.authentic).toBe(false);
  });

  it('re-signed by a key under an untrusted root → signature CMS_UNTRUSTED_SIGNER', async () => {
    const foreign = makeCenterPki({ centerName: 'Forged Center' });
    const pki = loadCenterPki({
      rootPem: foreign.rootCertPem,
      centerCertPem: foreign.centerCertPem,
      centerKeyPem: foreign.centerKeyPem,
      tsaCertPem: foreign.tsaCertPem,
      tsaKeyPem: foreign.tsaKeyPem,
    });
    const report = await verify(resign(copyOf(vector.certificate), pki.center));
    expect(step(report, 'signature')).toMatchObject({ status: 'undetermined', code: 'CMS_UNTRUSTED_SIGNER' });
    expect(report.authentic).toBe(false);
  });

  it('an unknown format version → format CERT_UNKNOWN_FORMAT, nothing else claimed', async () => {
    const cert = copyOf(vector.certificate) as unknown as Record<string, unknown>;
    cert.format = 'archive-seal/certificate@2';
    const report = await verify(cert);
    expect(report.steps).toEqual([{ step: 'format', status: 'failed', code: 'CERT_UNKNOWN_FORMAT', message: expect.any(String) }]);
    expect(report.authentic).toBe(false);
  });

  it('not a certificate at all → format CERT_MALFORMED', async () => {
    for (const bad of [null, [], 'text', { format: 'archive-seal/certificate@1' }]) {
      const report = await verify(bad);
      expect(report.steps[0]).toMatchObject({ step: 'format', status: 'failed', code: 'CERT_MALFORMED' });
    }
  });
});
