import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEVELOPMENT_CERTS_DIR } from '../../src/pki/dev-pki.js';
import { backupStatus } from '../../src/vault/backup-status.js';
import { HttpsPeer } from '../../src/vault/peer-client.js';
import { Replicator } from '../../src/vault/replicator.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { makeTestCenter, type TestCenter } from '../helpers/test-center.js';
import { freePort, makeTlsFiles } from './peer-fixture.js';

// Issue 17: the backup status did not show that a peer's copy of the embedded chain's state is
// behind (a new anchor's blocks not yet copied): a recovery from it would bring back a chain
// without them. Per peer it now shows the block of the copy the peer confirmed, against the state
// as last built here, and `stale` while they differ. A real peer listener (mutual TLS) holds the
// copies; the chain directory is one the embedded chain would leave (its state file, deployment
// and key), its newest block moved on by hand.
const dir = makeTempDir();
let origin: TestCenter;
let holder: TestCenter;
let client: HttpsPeer;
let replicator: Replicator;
const chainDir = join(dir.path, 'chain');
const PEER = { id: 'center-b', url: '' };

/** The embedded chain's files as anvil and the deployment leave them, the newest block being `block`. */
function chainAt(block: number): void {
  mkdirSync(chainDir, { recursive: true });
  writeFileSync(join(chainDir, 'anvil-state.json.good'), JSON.stringify({ best_block_number: block, blocks: Array.from({ length: block }, (_, i) => ({ n: i + 1 })) }));
  writeFileSync(join(chainDir, 'deployment.json'), JSON.stringify({ address: '0x' + '11'.repeat(20) }));
  writeFileSync(join(chainDir, 'center-key.hex'), 'ab'.repeat(32));
}

beforeAll(async () => {
  const tlsA = makeTlsFiles(join(dir.path, 'tls'), 'center-a');
  const tlsB = makeTlsFiles(join(dir.path, 'tls'), 'center-b');
  const port = await freePort();
  PEER.url = `https://127.0.0.1:${port}`;
  holder = await makeTestCenter({
    ARCHIVE_SEAL_CENTER_ID: 'center-b',
    ARCHIVE_SEAL_PEER_PORT: String(port),
    ARCHIVE_SEAL_TLS_CERT: tlsB.certFile,
    ARCHIVE_SEAL_TLS_KEY: tlsB.keyFile,
    ARCHIVE_SEAL_PEERS: JSON.stringify([{ id: 'center-a', url: 'https://127.0.0.1:9', fingerprint: tlsA.fingerprint }]),
    ARCHIVE_SEAL_AUDIT_INTERVAL_MS: '0',
  });
  await holder.backup.start();
  origin = await makeTestCenter({ ARCHIVE_SEAL_CENTER_ID: 'center-a' });
  const root = readFileSync(join(DEVELOPMENT_CERTS_DIR, 'root-ca.pem'), 'utf8');
  client = new HttpsPeer({ id: 'center-b', url: PEER.url, fingerprint: tlsB.fingerprint }, { cert: tlsA.cert, key: tlsA.key, ca: [root], fingerprint: tlsA.fingerprint, subject: 'CN=center-a' });
  replicator = new Replicator({
    store: origin.store,
    vault: origin.backup.vault,
    peers: [client],
    centerId: 'center-a',
    signer: origin.pki.center,
    events: origin.backup.events,
    log: () => {},
    pollMs: 60_000,
    maxBackoffMs: 1_000,
    chainDir,
  });
}, 60_000);
afterAll(async () => {
  await replicator?.stop();
  client?.close();
  await origin?.destroy();
  await holder?.destroy();
  dir.remove();
});

const status = () => backupStatus(origin.store, { minCopies: 2, peers: [PEER], limit: 0 });

it('shows no chain state where none has been built', () => {
  const s = status();
  expect(s.chainState).toBeNull();
  expect(s.peers[0]!.chainState).toBeNull();
});

it('shows the peer\'s copy stale until it confirms the current state, and again when a newer state is built', async () => {
  chainAt(5);
  await replicator.requeueChangedChainState();
  let s = status();
  expect(s.chainState).toMatchObject({ block: 5, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
  expect(s.peers[0]!.chainState).toEqual({ block: null, sha256: null, confirmedAt: null, status: 'pending', stale: true });

  replicator.start(); // a pass now, the next a minute later: the test runs the others
  await replicator.runOnce();
  s = status();
  const first = s.chainState!;
  expect(s.peers[0]!.chainState).toEqual({ block: 5, sha256: first.sha256, confirmedAt: expect.any(String), status: 'verified', stale: false });

  // New blocks (a new anchor): the peer's copy is behind until it has the new state.
  chainAt(9);
  await replicator.requeueChangedChainState();
  s = status();
  expect(s.chainState).toMatchObject({ block: 9 });
  expect(s.chainState!.sha256).not.toBe(first.sha256);
  expect(s.peers[0]!.chainState).toMatchObject({ block: 5, sha256: first.sha256, status: 'pending', stale: true });

  await replicator.runOnce();
  s = status();
  expect(s.peers[0]!.chainState).toMatchObject({ block: 9, sha256: s.chainState!.sha256, status: 'verified', stale: false });
  // Building the same state again changes nothing, not even since when it is current.
  await replicator.requeueChangedChainState();
  expect(status().chainState).toEqual(s.chainState);
});
