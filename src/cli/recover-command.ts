import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { loadCenterPki } from '../pki/center-pki.js';
import { readPkiSetSource } from '../pki/key-management.js';
import { recoverFromPeer } from '../vault/disaster-recovery.js';
import { readMasterKeyFile, writeMasterKeyFile } from '../vault/master-key.js';
import { HttpsPeer } from '../vault/peer-client.js';
import { loadTlsIdentity } from '../vault/peer-tls.js';
import { CliError, EXIT_FAILURE, EXIT_OK, usageError } from './cli-error.js';
import { readKeyFile } from './keys-command.js';

type Env = Readonly<Record<string, string | undefined>>;

export const RECOVER_USAGE = 'archive-seal recover --from-peer URL --data-dir DIR [--master-key FILE] [--json]';

/**
 * `archive-seal recover --from-peer URL --data-dir DIR [--master-key FILE]`: rebuilds a lost
 * center from a peer's copies (see disaster-recovery.ts), talking to the peer over mutual TLS
 * with this center's configured TLS certificate. Exit 0 when the registry and every original
 * came back, 1 otherwise (the report says what is missing). Run again on the same DIR, it resumes
 * a recovery whose registry is whole (fetching only the originals still missing) and starts over
 * one stopped before that (a kill -9, say).
 */
export async function recoverCommand(args: string[], env: Env): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'from-peer': { type: 'string' },
      'data-dir': { type: 'string' },
      'master-key': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (positionals.length > 0 || !values['from-peer'] || !values['data-dir']) throw usageError(`usage: ${RECOVER_USAGE}`);
  let url: URL;
  try {
    url = new URL(values['from-peer']);
  } catch {
    throw usageError(`--from-peer ${values['from-peer']} is not a URL`);
  }
  if (url.protocol !== 'https:') throw usageError('--from-peer must be the peer\'s https URL (peers talk over mutual TLS)');
  const dataDir = resolve(values['data-dir']);
  const config = loadConfig({ ...env, ARCHIVE_SEAL_DATA_DIR: dataDir });
  if (config.databaseUrl !== undefined) {
    // A recovery rebuilds the registry as a new SQLite file, checked whole before it is used;
    // then `db copy` moves it to PostgreSQL and checks every root again.
    throw usageError(
      'recover rebuilds the registry as a SQLite file in --data-dir: run it without ARCHIVE_SEAL_DATABASE_URL, then `archive-seal db copy --from sqlite:DIR/archive-seal.sqlite --to postgres://…` into an empty database, and start the center on it',
    );
  }
  const pki = loadCenterPki(readPkiSetSource(config.pkiDir));
  if (!config.backup.tlsCertFile || !config.backup.tlsKeyFile) {
    throw usageError('the peer is reached over mutual TLS: set ARCHIVE_SEAL_TLS_CERT and ARCHIVE_SEAL_TLS_KEY to this center\'s certificate and key');
  }
  const tls = loadTlsIdentity(config.backup, pki.roots.map((r) => r.pem));

  // The master key: the offline copy given, else a key file that survived outside the data directory.
  let masterKey = values['master-key'] ? readKeyFile(values['master-key']) : readMasterKeyFile(config.backup.masterKeyFile);
  if (values['master-key'] && masterKey) {
    const existing = readMasterKeyFile(config.backup.masterKeyFile);
    if (existing && existing.id !== masterKey.id) throw new CliError(`${config.backup.masterKeyFile} holds another key (${existing.id})`);
    if (!existing) writeMasterKeyFile(config.backup.masterKeyFile, masterKey);
  }

  const href = url.href.replace(/\/$/, '');
  const configured = config.backup.peers.find((p) => p.url === href);
  const peer = new HttpsPeer(configured ?? { id: url.host, url: href }, tls);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  try {
    const report = await recoverFromPeer({
      dataDir,
      centerId: config.centerId,
      peer,
      ...(configured && { configuredPeerId: configured.id }),
      pki,
      masterKey: masterKey ?? undefined,
      log,
    });
    const complete = report.blobs.failed.length === 0 && report.blobs.skipped === 0;
    if (values.json) {
      process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    } else {
      const registry = report.resumed
        ? [`resumed the recovery in ${dataDir}: its registry was already restored; fetched the originals still missing from ${href}`]
        : [
            `recovered ${report.periods} sealed periods and ${report.registrations} registrations from ${href}`,
            `recovered ${report.unsealedRegistrations} registrations of the period not yet sealed, from journal segments (sealed next)`,
            `recovered ${report.certificates} issued certificates, under their public links`,
            ...(report.chain ? [`recovered the embedded chain's state (block ${report.chain.bestBlock}): its contract and anchors are the ones the certificates name`] : []),
            ...(report.lastPeriod ? [`last period ${report.lastPeriod.id}, root ${report.lastPeriod.root ?? '(empty)'}: new registrations continue after it`] : []),
          ];
      const incomplete = report.blobs.failed.length > 0 || report.blobs.skipped > 0;
      const lines = [
        ...registry,
        `originals: ${report.blobs.restored} restored and checked${report.blobs.failed.length ? `, ${report.blobs.failed.length} FAILED` : ''}${report.blobs.skipped ? `, ${report.blobs.skipped} not restored (no master key)` : ''}`,
        ...report.blobs.failed.map((f) => `  failed ${f.sha256}: ${f.problem}`),
        ...(incomplete
          ? [`the originals not restored stay marked missing (with an alarm): run this command again to fetch them, or start the center, whose audit fetches them from its peers`]
          : []),
        ...report.warnings.map((w) => `warning: ${w}`),
        'not recoverable from a peer: registrations made after its last replication pass, tokens (issue new ones), downloads and events recorded at the lost site',
      ];
      process.stdout.write(lines.join('\n') + '\n');
    }
    return complete ? EXIT_OK : EXIT_FAILURE;
  } finally {
    peer.close();
  }
}
