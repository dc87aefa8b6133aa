import { createPrivateKey } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCenterPki } from '../../src/pki/center-pki.js';
import { generateRsaKey, issueCertificate } from '../../src/pki/certificate-factory.js';
import { readPkiSetSource } from '../../src/pki/key-management.js';
import { runCli } from '../helpers/server-process.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const dir = makeTempDir();
afterAll(() => dir.remove());
const now = new Date();
const years = (n: number) => new Date(now.getTime() + n * 365 * 86_400_000);

describe('archive-seal keys init | csr | import', () => {
  it('init makes a set the center loads, and refuses to overwrite it', async () => {
    const out = join(dir.path, 'own');
    const made = await runCli(['keys', 'init', '--out', out, '--center-name', '衢州市档案馆登记备份中心']);
    expect(made.code).toBe(0);
    const pki = loadCenterPki(readPkiSetSource(out));
    expect(pki.isDevelopment).toBe(false);
    expect(pki.center.certificate.facts.subject).toContain('衢州市档案馆登记备份中心');
    expect((await runCli(['keys', 'init', '--out', out, '--center-name', 'again'])).code).toBe(1);
    expect((await runCli(['keys', 'init', '--out', out])).code).toBe(2);
  });

  it('tls issues a peer certificate under the PKI root', async () => {
    const out = join(dir.path, 'tls');
    const made = await runCli(['keys', 'tls', '--pki-dir', join(dir.path, 'own'), '--name', 'center-b', '--out', out]);
    expect(made.code).toBe(0);
    const { X509Certificate } = await import('node:crypto');
    const cert = new X509Certificate(readFileSync(join(out, 'tls.pem')));
    expect(cert.subject).toContain('CN=center-b');
    expect(cert.checkIssued(new X509Certificate(readFileSync(join(dir.path, 'own', 'root-ca.pem'))))).toBe(true);
    expect((await runCli(['keys', 'tls', '--name', 'x', '--out', out])).code).toBe(2);
  });

  it('csr then import: certificates for other keys are refused, the CA’s answer installed', async () => {
    const out = join(dir.path, 'outside');
    expect((await runCli(['keys', 'csr', '--out', out, '--center-name', 'Outside CA Test Center'])).code).toBe(0);
    expect(readFileSync(join(out, 'center.csr.pem'), 'utf8')).toContain('BEGIN CERTIFICATE REQUEST');
    // Asked again into the same directory: refused, the keys the requests are for left as they are…
    const key = readFileSync(join(out, 'center.key.pem'), 'utf8');
    const again = await runCli(['keys', 'csr', '--out', out, '--center-name', 'Outside CA Test Center']);
    expect([again.code, again.stderr]).toEqual([1, expect.stringMatching(/center\.csr\.pem already exists/)]);
    expect(readFileSync(join(out, 'center.key.pem'), 'utf8')).toBe(key);
    // …and with the keys moved away, no new keys are made beside requests for the old ones.
    const moved = join(dir.path, 'moved-keys');
    mkdirSync(moved);
    for (const name of ['center.key.pem', 'tsa.key.pem']) renameSync(join(out, name), join(moved, name));
    const beside = await runCli(['keys', 'csr', '--out', out, '--center-name', 'Outside CA Test Center']);
    expect([beside.code, beside.stderr]).toEqual([1, expect.stringMatching(/center\.csr\.pem already exists/)]);
    expect(existsSync(join(out, 'center.key.pem'))).toBe(false);
    for (const name of ['center.key.pem', 'tsa.key.pem']) renameSync(join(moved, name), join(out, name));
    // Play the outside CA.
    const rootKey = generateRsaKey();
    const rootPem = issueCertificate({ profile: 'root-ca', subject: { commonName: 'Outside Root CA', organization: 'Outside CA' }, subjectKey: rootKey, notBefore: now, notAfter: years(10) });
    const issuer = { certificatePem: rootPem, privateKey: rootKey };
    const issue = (profile: 'document-signer' | 'timestamping', commonName: string, key = generateRsaKey()) =>
      issueCertificate({ profile, subject: { commonName, organization: 'Outside CA Test Center' }, subjectKey: key, issuer, notBefore: now, notAfter: years(2) });
    const files = {
      root: join(dir.path, 'outside-root.pem'),
      wrong: join(dir.path, 'wrong.pem'),
      center: join(dir.path, 'center-from-ca.pem'),
      tsa: join(dir.path, 'tsa-from-ca.pem'),
    };
    writeFileSync(files.root, rootPem);
    writeFileSync(files.wrong, issue('document-signer', 'Someone else'));
    const refused = await runCli(['keys', 'import', '--dir', out, '--root', files.root, '--center-cert', files.wrong, '--tsa-cert', files.wrong]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^problem: /m);
    expect(existsSync(join(out, 'center.pem'))).toBe(false);

    writeFileSync(files.center, issue('document-signer', 'Outside CA Test Center', createPrivateKey(readFileSync(join(out, 'center.key.pem')))));
    writeFileSync(files.tsa, issue('timestamping', 'Outside CA Test Center TSA', createPrivateKey(readFileSync(join(out, 'tsa.key.pem')))));
    const installed = await runCli(['keys', 'import', '--dir', out, '--root', files.root, '--center-cert', files.center, '--tsa-cert', files.tsa]);
    expect(installed.stderr).toBe('');
    expect(installed.code).toBe(0);
    expect(loadCenterPki(readPkiSetSource(out)).center.certificate.facts.subject).toContain('Outside CA Test Center');
  });
});
