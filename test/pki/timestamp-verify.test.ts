import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as Forge from 'node-forge';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEVELOPMENT_TSA_POLICY_OID } from '../../src/core/development-marker.js';
import { derToPem } from '../../src/core/pem.js';
import { verifyTimestampToken } from '../../src/core/timestamp-verify.js';
import { signDetached } from '../../src/pki/cms-signer.js';
import { forge } from '../../src/pki/forge.js';
import { BuiltInTimestampAuthority } from '../../src/pki/timestamp-authority.js';
import {
  DEVELOPMENT_CERTS_DIR,
  devPki,
  openssl,
  strangerPki,
  useTempDir,
  writeFiles,
  writeOpensslTsaConfig,
} from './pki-test-kit.js';

const dir = useTempDir();
const rootPem = readFileSync(join(DEVELOPMENT_CERTS_DIR, 'root-ca.pem'), 'utf8');
const data = new TextEncoder().encode('period 7 root');
const digest = new Uint8Array(createHash('sha256').update(data).digest());
const tsa = new BuiltInTimestampAuthority({ identity: devPki().tsa });

/** A copy of the dev TSA certificate re-issued by the dev root with changes, same key and serial. */
function reissuedTsaCertificate(change: (cert: Forge.pki.Certificate) => void): Uint8Array {
  const cert = forge.pki.certificateFromPem(devPki().tsa.certificate.pem);
  change(cert);
  const rootKey = forge.pki.privateKeyFromPem(readFileSync(join(DEVELOPMENT_CERTS_DIR, 'root-ca.key.pem'), 'utf8'));
  cert.sign(rootKey as Forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return new Uint8Array(Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary'));
}

function replaceBytes(haystack: Uint8Array, needle: Uint8Array, replacement: Uint8Array): Uint8Array {
  const at = Buffer.from(haystack).indexOf(Buffer.from(needle));
  expect(at).toBeGreaterThanOrEqual(0);
  expect(replacement.length).toBe(needle.length);
  const out = haystack.slice();
  out.set(replacement, at);
  return out;
}

describe('verifyTimestampToken on our own tokens', () => {
  let token: Uint8Array;
  beforeAll(async () => {
    token = (await tsa.timestamp(digest)).token;
  });

  it('accepts a token from the built-in TSA and reports its facts', async () => {
    const issued = await tsa.timestamp(digest);
    const result = await verifyTimestampToken(issued.token, digest, [rootPem]);
    expect(result).toMatchObject({
      status: 'ok',
      code: 'OK',
      serial: issued.serial,
      tsa: devPki().tsa.certificate.facts.subject,
      policy: DEVELOPMENT_TSA_POLICY_OID,
      isDevelopment: true,
    });
    expect(result.genTime?.getTime()).toBe(issued.genTime.getTime());
  });

  it('the same token passes openssl ts -verify -digest', () => {
    writeFiles(dir, { 'own.tst': token });
    const r = openssl(
      ['ts', '-verify', '-digest', Buffer.from(digest).toString('hex'), '-in', 'own.tst', '-token_in', '-CAfile', join(DEVELOPMENT_CERTS_DIR, 'root-ca.pem')],
      dir,
    );
    expect(r.stdout).toBe('Verification: OK\n');
  });

  it('rejects a different digest with TST_IMPRINT_MISMATCH', async () => {
    const other = digest.slice();
    other[31] = (other[31] as number) ^ 1;
    expect(await verifyTimestampToken(token, other, [rootPem])).toMatchObject({ status: 'failed', code: 'TST_IMPRINT_MISMATCH' });
    expect(await verifyTimestampToken(token, digest.subarray(0, 20), [rootPem])).toMatchObject({ code: 'TST_IMPRINT_MISMATCH' });
  });

  it('rejects a token signed by a TSA under another root with TST_UNTRUSTED', async () => {
    const foreign = await new BuiltInTimestampAuthority({ identity: strangerPki().tsa }).timestamp(digest);
    const result = await verifyTimestampToken(foreign.token, digest, [rootPem]);
    expect(result).toMatchObject({ status: 'failed', code: 'TST_UNTRUSTED', tsa: 'CN=Stranger TSA,O=Stranger' });
    // With the stranger's root it is fine: the failure above is about trust alone.
    expect((await verifyTimestampToken(foreign.token, digest, [strangerPki().roots[0]!.pem])).code).toBe('OK');
  });

  it('rejects a token whose TSA certificate has a non-critical EKU with TST_BAD_EKU (openssl agrees)', async () => {
    const certificateDer = reissuedTsaCertificate((cert) => {
      const eku = cert.extensions.find((e: { name?: string }) => e.name === 'extKeyUsage') as { critical: boolean };
      eku.critical = false;
    });
    const weak = new BuiltInTimestampAuthority({
      identity: { ...devPki().tsa, certificateDer, chainDer: devPki().tsa.chainDer },
    });
    const issued = await weak.timestamp(digest);
    const result = await verifyTimestampToken(issued.token, digest, [rootPem]);
    expect(result).toMatchObject({ status: 'failed', code: 'TST_BAD_EKU' });
    expect(result.message).toContain('not critical');
    writeFiles(dir, { 'weak.tst': issued.token });
    const r = openssl(
      ['ts', '-verify', '-digest', Buffer.from(digest).toString('hex'), '-in', 'weak.tst', '-token_in', '-CAfile', join(DEVELOPMENT_CERTS_DIR, 'root-ca.pem')],
      dir,
    );
    expect(r.status).not.toBe(0);
  });

  it('rejects a token whose ESS certificate hash names another certificate with TST_ESS_MISMATCH', async () => {
    // Same key, same serial, one second shorter validity: the signature still verifies, the ESS hash does not.
    const twin = reissuedTsaCertificate((cert) => {
      cert.validity.notAfter = new Date(cert.validity.notAfter.getTime() - 1000);
    });
    const signed = await new BuiltInTimestampAuthority({
      identity: { ...devPki().tsa, certificateDer: twin },
    }).timestamp(digest);
    const swapped = replaceBytes(signed.token, twin, devPki().tsa.certificateDer);
    expect(await verifyTimestampToken(swapped, digest, [rootPem])).toMatchObject({ status: 'failed', code: 'TST_ESS_MISMATCH' });
  });

  it('rejects a changed signature with TST_SIGNATURE_INVALID', async () => {
    const broken = token.slice();
    broken[broken.length - 3] = (broken[broken.length - 3] as number) ^ 0x40;
    expect(await verifyTimestampToken(broken, digest, [rootPem])).toMatchObject({ code: 'TST_SIGNATURE_INVALID' });
  });

  it('rejects junk and a plain CMS signature with TST_MALFORMED, without throwing', async () => {
    expect(await verifyTimestampToken(new Uint8Array([0x30, 0x82]), digest, [rootPem])).toMatchObject({
      status: 'failed',
      code: 'TST_MALFORMED',
    });
    const cms = signDetached(data, devPki().center);
    expect(await verifyTimestampToken(cms, digest, [rootPem])).toMatchObject({ code: 'TST_MALFORMED' });
  });

  it('checks the nonce when asked: our own tokens carry none', async () => {
    expect(await verifyTimestampToken(token, digest, [rootPem], { nonce: 5n })).toMatchObject({ code: 'TST_NONCE_MISMATCH' });
  });
});

describe('verifyTimestampToken on tokens made by openssl ts -reply', () => {
  beforeAll(() => {
    writeFiles(dir, {
      'data.bin': data,
      'tsa.pem': devPki().tsa.certificate.pem,
      'tsa.key.pem': readFileSync(join(DEVELOPMENT_CERTS_DIR, 'tsa.key.pem')),
    });
  });

  function opensslToken(essAlg: 'sha1' | 'sha256', name: string): { token: Uint8Array; nonce: bigint } {
    const config = writeOpensslTsaConfig(dir, { certFile: 'tsa.pem', keyFile: 'tsa.key.pem', essAlg });
    expect(openssl(['ts', '-query', '-data', 'data.bin', '-sha256', '-cert', '-out', `${name}.tsq`], dir).status).toBe(0);
    const r = openssl(['ts', '-reply', '-config', config, '-queryfile', `${name}.tsq`, '-token_out', '-out', `${name}.tst`], dir);
    expect(r.status, r.stderr).toBe(0);
    const nonceHex = /Nonce: 0x([0-9A-F]+)/.exec(openssl(['ts', '-query', '-in', `${name}.tsq`, '-text'], dir).stdout)?.[1];
    return { token: new Uint8Array(readFileSync(join(dir, `${name}.tst`))), nonce: BigInt(`0x${nonceHex}`) };
  }

  it('accepts an openssl token with ESS signingCertificateV2 and checks its nonce', async () => {
    const { token, nonce } = opensslToken('sha256', 'v2');
    const result = await verifyTimestampToken(token, digest, [rootPem], { nonce });
    expect(result).toMatchObject({ status: 'ok', code: 'OK', policy: '1.2.3.4.1', isDevelopment: true });
    expect(await verifyTimestampToken(token, digest, [rootPem], { nonce: nonce + 1n })).toMatchObject({
      code: 'TST_NONCE_MISMATCH',
    });
  });

  it('accepts an openssl token with the older SHA-1 ESS signingCertificate', async () => {
    const { token, nonce } = opensslToken('sha1', 'v1');
    expect(await verifyTimestampToken(token, digest, [rootPem], { nonce })).toMatchObject({ status: 'ok' });
  });

  it('rejects the openssl token for another digest and under another root', async () => {
    const { token } = opensslToken('sha256', 'v2b');
    expect((await verifyTimestampToken(token, new Uint8Array(32), [rootPem])).code).toBe('TST_IMPRINT_MISMATCH');
    expect((await verifyTimestampToken(token, digest, [derToPem(strangerPki().roots[0]!.der)])).code).toBe('TST_UNTRUSTED');
  });
});
