import { createPrivateKey, generateKeyPairSync, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { PeerCertificate } from 'node:tls';
import type * as Forge from 'node-forge';
import { forge } from '../pki/forge.js';
import type { BackupConfig, PeerConfig } from './peer-config.js';
import { VaultError } from './vault-error.js';

/**
 * The center's side of mutual TLS between peers: its own certificate and key, used both to
 * listen and to connect, and the root peers' certificates must chain to (the shared root).
 */
export interface TlsIdentity {
  cert: string;
  key: string;
  /** PEM roots a peer's certificate must chain to. */
  ca: string[];
  /** SHA-256 fingerprint of our certificate (lower-case hex): what peers pin. */
  fingerprint: string;
  subject: string;
}

/** Loads this center's TLS identity from the configured files; `defaultRoots` when no trust root file is set. */
export function loadTlsIdentity(backup: BackupConfig, defaultRoots: readonly string[]): TlsIdentity {
  if (!backup.tlsCertFile || !backup.tlsKeyFile) {
    throw new VaultError('PEER_FAILED', 'peers talk over mutual TLS: ARCHIVE_SEAL_TLS_CERT and ARCHIVE_SEAL_TLS_KEY must be set');
  }
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw new VaultError('PEER_FAILED', `cannot read the ${what} ${file}`, { cause: err });
    }
  };
  const cert = read(backup.tlsCertFile, 'TLS certificate');
  const key = read(backup.tlsKeyFile, 'TLS key');
  const ca = backup.trustRootFile ? [read(backup.trustRootFile, 'peer trust root')] : [...defaultRoots];
  const x509 = new X509Certificate(cert);
  if (!x509.checkPrivateKey(createPrivateKey(key))) throw new VaultError('PEER_FAILED', 'the TLS key does not belong to the TLS certificate');
  const issued = ca.some((root) => {
    const r = new X509Certificate(root);
    return x509.checkIssued(r) && x509.verify(r.publicKey);
  });
  if (!issued) throw new VaultError('PEER_FAILED', `the TLS certificate ${x509.subject.replace(/\n/g, ', ')} is not issued by the peers' trust root`);
  return { cert, key, ca, fingerprint: fingerprintOf(x509.fingerprint256), subject: x509.subject.replace(/\n/g, ', ') };
}

/** `AB:CD:…` → `abcd…`. */
export function fingerprintOf(colonHex: string): string {
  return colonHex.replace(/:/g, '').toLowerCase();
}

/**
 * True when a presented certificate is the configured peer's: its SHA-256 fingerprint equals
 * the pinned one, or (without a pin) every attribute of the configured subject matches.
 */
export function certificateIsPeer(cert: Pick<PeerCertificate, 'fingerprint256' | 'subject'>, peer: PeerConfig): boolean {
  if (peer.fingerprint !== undefined) return fingerprintOf(cert.fingerprint256 ?? '') === peer.fingerprint;
  if (peer.subject === undefined) return false;
  const wanted = peer.subject.split(/\s*,\s*/).map((part) => part.split('=') as [string, string]);
  const subject = (cert.subject ?? {}) as unknown as Record<string, string | string[]>;
  return wanted.length > 0 && wanted.every(([k, v]) => {
    const got = subject[k?.trim() ?? ''];
    return Array.isArray(got) ? got.includes(v?.trim() ?? '') : got === v?.trim();
  });
}

/** The configured peer a client certificate belongs to, if any. */
export function peerOfCertificate(peers: readonly PeerConfig[], cert: PeerCertificate | undefined): PeerConfig | undefined {
  if (!cert || !cert.fingerprint256) return undefined;
  return peers.find((p) => certificateIsPeer(cert, p));
}

/**
 * Issues a TLS certificate for a center (serverAuth and clientAuth, so one certificate serves
 * both ends of mutual TLS) under `issuer`. For development and tests under the development root;
 * a real center gets its TLS certificate from its own CA.
 */
export function issueTlsCertificate(options: {
  issuerCertPem: string;
  issuerKeyPem: string;
  commonName: string;
  organization?: string;
  hosts?: readonly string[];
  days?: number;
}): { certPem: string; keyPem: string } {
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  const serial = randomBytes(16);
  serial[0] = ((serial[0] as number) & 0x7f) | 0x40;
  cert.serialNumber = serial.toString('hex');
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 3_600_000);
  cert.validity.notAfter = new Date(now + (options.days ?? 365) * 86_400_000);
  cert.setSubject([
    ...(options.organization ? [{ shortName: 'O', value: options.organization }] : []),
    { shortName: 'CN', value: options.commonName },
  ]);
  const issuer = forge.pki.certificateFromPem(options.issuerCertPem);
  cert.setIssuer(issuer.subject.attributes.map((a) => (a.valueTagClass === (forge.asn1.Type.UTF8 as unknown) && typeof a.value === 'string' ? { ...a, value: forge.util.decodeUtf8(a.value) } : a)));
  const hosts = options.hosts ?? ['127.0.0.1', 'localhost'];
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    { name: 'subjectAltName', altNames: hosts.map((h) => (isIP(h) ? { type: 7, ip: h } : { type: 2, value: h })) },
    { name: 'subjectKeyIdentifier' },
  ]);
  const issuerKey = createPrivateKey(options.issuerKeyPem);
  cert.sign(forge.pki.privateKeyFromPem(pkcs8(issuerKey)) as Forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: pkcs8(keys.privateKey) };
}

function pkcs8(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}
