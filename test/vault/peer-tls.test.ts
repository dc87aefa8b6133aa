import { createServer, type Server } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEVELOPMENT_CERTS_DIR } from '../../src/pki/dev-pki.js';
import { HttpsPeer } from '../../src/vault/peer-client.js';
import { parsePeers } from '../../src/vault/peer-config.js';
import { loadTlsIdentity } from '../../src/vault/peer-tls.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { makeForeignRoot, makeTlsFiles, type TlsFiles } from './peer-fixture.js';

const dir = makeTempDir();
const devRoot = readFileSync(join(DEVELOPMENT_CERTS_DIR, 'root-ca.pem'), 'utf8');
const servers: Server[] = [];
const peers: HttpsPeer[] = [];
afterAll(async () => {
  for (const p of peers) p.close();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  dir.remove();
});

/** A peer listener stand-in presenting `tls`; answers hello. */
async function listener(tls: TlsFiles): Promise<string> {
  const server = createServer({ cert: tls.cert, key: tls.key }, (_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ center: 'center-b', you: 'center-a' }));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `https://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** A client of one peer, closed after the tests. */
function peer(...args: ConstructorParameters<typeof HttpsPeer>): HttpsPeer {
  const p = new HttpsPeer(...args);
  peers.push(p);
  return p;
}

const client = makeTlsFiles(join(dir.path, 'tls'), 'center-a');
const identity = loadTlsIdentity(
  { tlsCertFile: client.certFile, tlsKeyFile: client.keyFile, trustRootFile: null } as Parameters<typeof loadTlsIdentity>[0],
  [devRoot],
);

describe('connecting to a peer over mutual TLS', () => {
  it('talks to the configured peer (pinned fingerprint, or subject and host name)', async () => {
    const genuine = makeTlsFiles(join(dir.path, 'tls'), 'center-b');
    const url = await listener(genuine);
    expect(await peer({ id: 'center-b', url, fingerprint: genuine.fingerprint }, identity).hello()).toEqual({ center: 'center-b', you: 'center-a' });
    expect(await peer({ id: 'center-b', url, subject: 'CN=center-b, O=Archive Seal DEVELOPMENT' }, identity).hello()).toMatchObject({ center: 'center-b' });
    await expect(peer({ id: 'center-b', url, subject: 'CN=center-c' }, identity).hello()).rejects.toThrow(/is not peer center-b's/);
  });

  it('refuses a peer whose certificate comes from another root, even with its fingerprint pinned', async () => {
    const impostor = makeTlsFiles(join(dir.path, 'foreign'), 'center-b', makeForeignRoot());
    const url = await listener(impostor);
    await expect(peer({ id: 'center-b', url, fingerprint: impostor.fingerprint }, identity).hello()).rejects.toMatchObject({
      code: 'PEER_FAILED',
      message: expect.stringMatching(/certificate/i),
    });
  });

  it('refuses a certificate under the shared root that is not the pinned one', async () => {
    const other = makeTlsFiles(join(dir.path, 'tls'), 'center-c');
    const url = await listener(other);
    await expect(peer({ id: 'center-b', url, fingerprint: 'ab'.repeat(32) }, identity).hello()).rejects.toThrow(/is not peer center-b's/);
  });

  it('will not load a TLS identity that is not under the peers\' root', () => {
    const foreign = makeTlsFiles(join(dir.path, 'foreign'), 'center-a', makeForeignRoot());
    expect(() => loadTlsIdentity({ tlsCertFile: foreign.certFile, tlsKeyFile: foreign.keyFile, trustRootFile: null } as Parameters<typeof loadTlsIdentity>[0], [devRoot])).toThrow(
      /not issued by the peers' trust root/,
    );
  });

  it('checks the peer list it is configured with', () => {
    expect(parsePeers('[{"id":"b","url":"https://x.example:8443/","fingerprint":"AB:' + 'cd:'.repeat(30) + 'ef"}]')).toEqual([
      { id: 'b', url: 'https://x.example:8443', fingerprint: 'ab' + 'cd'.repeat(30) + 'ef' },
    ]);
    expect(() => parsePeers('[{"id":"b","url":"http://x"}]')).toThrow(/https/);
    expect(() => parsePeers('[{"id":"b","url":"https://x"}]')).toThrow(/fingerprint" or "subject/);
    expect(() => parsePeers('{}')).toThrow(/JSON array/);
  });
});
