import { createServer } from 'node:net';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { DEVELOPMENT_CERTS_DIR } from '../../src/pki/dev-pki.js';
import { issuePkiSet } from '../../src/pki/key-management.js';
import { issueTlsCertificate } from '../../src/vault/peer-tls.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';

/** A TLS certificate and key on disk, and the certificate's SHA-256 fingerprint. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
  fingerprint: string;
}

/** Issues a TLS certificate for `name` under the development root (or `issuer`) and writes it into `dir`. */
export function makeTlsFiles(dir: string, name: string, issuer?: { certPem: string; keyPem: string }): TlsFiles {
  mkdirSync(dir, { recursive: true });
  const { certPem, keyPem } = issueTlsCertificate({
    issuerCertPem: issuer?.certPem ?? readFileSync(join(DEVELOPMENT_CERTS_DIR, 'root-ca.pem'), 'utf8'),
    issuerKeyPem: issuer?.keyPem ?? readFileSync(join(DEVELOPMENT_CERTS_DIR, 'root-ca.key.pem'), 'utf8'),
    commonName: name,
    organization: 'Archive Seal DEVELOPMENT',
  });
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}.key.pem`);
  writeFileSync(certFile, certPem);
  writeFileSync(keyFile, keyPem, { mode: 0o600 });
  return { certFile, keyFile, cert: certPem, key: keyPem, fingerprint: new X509Certificate(certPem).fingerprint256.replace(/:/g, '').toLowerCase() };
}

/** A root CA that is not the development root: what an impostor would use. */
export function makeForeignRoot(): { certPem: string; keyPem: string } {
  const set = issuePkiSet({
    root: { commonName: 'Some Other Root CA' },
    center: { commonName: 'Some Other Center' },
    tsa: { commonName: 'Some Other TSA' },
  });
  return { certPem: set.rootCertPem, keyPem: set.rootKeyPem };
}

/** A port that was free a moment ago (peers must know each other's ports before they start). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** One center of a test federation: its data, TLS identity, peer port and (when running) process. */
export interface PeerCenter {
  id: string;
  dataDir: string;
  tls: TlsFiles;
  peerPort: number;
  peerUrl: string;
  env: Record<string, string>;
  server: ServerProcess | undefined;
  start(): Promise<ServerProcess>;
  stop(): Promise<void>;
}

/**
 * Centers that peer with every other one (mutual TLS under the development root, fingerprints
 * pinned), fast replication polling and no scheduled audits (tests run them on demand).
 */
export async function makeFederation(root: string, ids: string[], extraEnv: Record<string, string> = {}): Promise<PeerCenter[]> {
  const centers = await Promise.all(
    ids.map(async (id) => {
      const tls = makeTlsFiles(join(root, 'tls'), id);
      const peerPort = await freePort();
      return { id, tls, peerPort, peerUrl: `https://127.0.0.1:${peerPort}`, dataDir: join(root, id, 'data') };
    }),
  );
  return centers.map((c) => {
    const peers = centers.filter((o) => o.id !== c.id).map((o) => ({ id: o.id, url: o.peerUrl, fingerprint: o.tls.fingerprint }));
    const env = {
      ARCHIVE_SEAL_CENTER_ID: c.id,
      ARCHIVE_SEAL_PEER_PORT: String(c.peerPort),
      ARCHIVE_SEAL_TLS_CERT: c.tls.certFile,
      ARCHIVE_SEAL_TLS_KEY: c.tls.keyFile,
      ARCHIVE_SEAL_PEERS: JSON.stringify(peers),
      ARCHIVE_SEAL_REPLICATION_POLL_MS: '200',
      ARCHIVE_SEAL_REPLICATION_MAX_BACKOFF_MS: '1000',
      ARCHIVE_SEAL_AUDIT_INTERVAL_MS: '0',
      ...extraEnv,
    };
    const center: PeerCenter = {
      ...c,
      env,
      server: undefined,
      async start() {
        center.server = await startServerProcess(c.dataDir, env);
        return center.server;
      },
      async stop() {
        await center.server?.stop();
        center.server = undefined;
      },
    };
    return center;
  });
}

/** Polls `check` until it returns a value (not undefined), or fails after `timeoutMs` with the last state. */
export async function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** Uploads `file` to a center as a registration; resolves with the registration. */
export async function upload(url: string, token: string, file: Buffer, fields: Record<string, string>, fileName = 'scan.pdf'): Promise<any> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('file', new Blob([new Uint8Array(file)], { type: 'application/pdf' }), fileName);
  const res = await fetch(`${url}/v1/registrations`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  const body = await res.json();
  if (res.status !== 201) throw new Error(`upload: ${res.status} ${JSON.stringify(body)}`);
  return body;
}
