/** A peer center, as configured (`ARCHIVE_SEAL_PEERS`). */
export interface PeerConfig {
  /** The peer's center id: how its copies are named here, and how it names ours. */
  readonly id: string;
  /** Base URL of the peer's mutual-TLS listener, e.g. `https://backup.example.org:8443`. */
  readonly url: string;
  /** SHA-256 fingerprint of the peer's TLS certificate, lower-case hex without colons. */
  readonly fingerprint?: string;
  /** The peer's TLS certificate subject, as Node prints it (e.g. `CN=center-b`), when no fingerprint pins it. */
  readonly subject?: string;
}

/** The settings of the vault, replication and audits. */
export interface BackupConfig {
  /** The master key file (mode 0600; never in the database). */
  readonly masterKeyFile: string;
  /** Port of the mutual-TLS listener peers connect to; null when off. */
  readonly peerPort: number | null;
  /** This center's TLS certificate and key (PEM files), used both to listen and to connect. */
  readonly tlsCertFile: string | null;
  readonly tlsKeyFile: string | null;
  /** The root (PEM file) peers' certificates must chain to; null: the center PKI's root. */
  readonly trustRootFile: string | null;
  readonly peers: readonly PeerConfig[];
  /** Verified copies each blob and period should have, the local one included. */
  readonly minCopies: number;
  readonly replicationPollMs: number;
  readonly replicationMaxBackoffMs: number;
  /** Time between audit runs; 0: no scheduled audits. */
  readonly auditIntervalMs: number;
  /** Every copy is audited at least once per this many days (each run takes its share). */
  readonly auditCycleDays: number;
  /** An alarm is raised when the data directory's disk has less free space than this. */
  readonly minFreeDiskBytes: number;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Parses `ARCHIVE_SEAL_PEERS`: a JSON array of `{ "id", "url", "fingerprint" | "subject" }`. Throws a message on a bad value. */
export function parsePeers(text: string): PeerConfig[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error('expected a JSON array of { "id", "url", "fingerprint" or "subject" }');
  }
  if (!Array.isArray(value)) throw new Error('expected a JSON array of { "id", "url", "fingerprint" or "subject" }');
  const peers = value.map((entry: unknown, i): PeerConfig => {
    const e = entry as Record<string, unknown> | null;
    if (!e || typeof e !== 'object') throw new Error(`peer ${i} is not an object`);
    const { id, url, fingerprint, subject } = e;
    if (typeof id !== 'string' || !ID.test(id)) throw new Error(`peer ${i}: "id" must be a center id (letters, digits, '.', '_', '-')`);
    let parsed: URL;
    try {
      parsed = new URL(String(url));
    } catch {
      throw new Error(`peer ${id}: "url" is not a URL`);
    }
    if (parsed.protocol !== 'https:') throw new Error(`peer ${id}: "url" must be https (peers talk over mutual TLS)`);
    const pin = typeof fingerprint === 'string' ? fingerprint.replace(/:/g, '').toLowerCase() : undefined;
    if (pin !== undefined && !/^[0-9a-f]{64}$/.test(pin)) throw new Error(`peer ${id}: "fingerprint" must be a SHA-256 fingerprint`);
    if (subject !== undefined && (typeof subject !== 'string' || subject.trim() === '')) throw new Error(`peer ${id}: "subject" must be a string`);
    if (pin === undefined && subject === undefined) throw new Error(`peer ${id}: give the "fingerprint" or "subject" of its certificate`);
    return {
      id,
      url: parsed.href.replace(/\/$/, ''),
      ...(pin !== undefined && { fingerprint: pin }),
      ...(typeof subject === 'string' && { subject: subject.trim() }),
    };
  });
  const ids = new Set<string>();
  for (const p of peers) {
    if (ids.has(p.id)) throw new Error(`peer ${p.id} is listed twice`);
    ids.add(p.id);
  }
  return peers;
}
