import type { TLSSocket } from 'node:tls';
import { Readable } from 'node:stream';
import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { HELD_PAGE_DEFAULT, HELD_PAGE_MAX, type HeldCopies, type HeldPage } from '../vault/held-copies.js';
import type { PeerConfig } from '../vault/peer-config.js';
import { MAX_BUNDLE_BYTES } from '../vault/period-bundle.js';
import { peerOfCertificate } from '../vault/peer-tls.js';
import { VaultError, type VaultErrorCode } from '../vault/vault-error.js';
import type { AppEnv } from './app-env.js';
import { requestBodyStream } from './request-body.js';

/** HTTP status of each vault error code, on the peer listener and the staff API alike. */
export const VAULT_ERROR_STATUS: Readonly<Record<VaultErrorCode, ContentfulStatusCode>> = Object.freeze({
  MASTER_KEY_MISSING: 500,
  MASTER_KEY_INVALID: 500,
  MASTER_KEY_MISMATCH: 500,
  BLOB_NOT_FOUND: 503,
  BLOB_CORRUPT: 503,
  DIGEST_MISMATCH: 422,
  PEER_UNKNOWN: 403,
  PEER_FAILED: 502,
  BUNDLE_INVALID: 422,
  BUNDLE_TOO_LARGE: 500, // built here, never received: a period too large to bundle
  RECOVERY_FAILED: 500,
  INVALID_REQUEST: 400,
  NOT_HELD: 404,
  OFFSET_MISMATCH: 409,
  HELD_DIFFERENT: 409,
});

type PeerEnv = AppEnv & { Variables: AppEnv['Variables'] & { origin: string } };

/** A framed bundle or journal segment: the largest bundle a center builds, its signature and framing. */
const MAX_FRAMED_BYTES = MAX_BUNDLE_BYTES + 1024 * 1024;

/**
 * The peer listener's API (`/v1/peer/*`, HTTPS with mutual TLS only): another center stores
 * its encrypted blobs and signed period bundles here, answers fixity challenges and gets them
 * back after a disaster. The TLS layer has already refused certificates from other roots;
 * here the client certificate must also be one of the configured peers, whose id names the
 * copies it may touch (a peer sees and changes only its own).
 */
export function createPeerApp(deps: { centerId: string; peers: readonly PeerConfig[]; held: HeldCopies; log: (line: string) => void }) {
  const { held } = deps;
  const app = new Hono<PeerEnv>();
  app.use('*', async (c, next) => {
    const socket = c.env?.incoming?.socket as TLSSocket | undefined;
    const peer = peerOfCertificate(deps.peers, socket?.getPeerCertificate?.());
    if (!peer) throw new VaultError('PEER_UNKNOWN', 'the client certificate is not one of this center\'s configured peers');
    c.set('origin', peer.id);
    await next();
  });
  app
    .get('/v1/peer/hello', (c) => c.json({ center: deps.centerId, you: c.get('origin') }))
    .get('/v1/peer/blobs', (c) => c.json(held.listBlobs(c.get('origin'), pageOf(c))))
    .get('/v1/peer/blobs/:sha256/state', (c) => {
      const { received, complete, sha256 } = held.blobState(c.get('origin'), c.req.param('sha256'));
      return c.json({ received, complete, sha256 });
    })
    .put('/v1/peer/blobs/:sha256', async (c) => {
      const body = bodyOf(c as unknown as Context<PeerEnv>);
      const q = (name: string) => c.req.query(name) ?? '';
      const state = await held.receiveBlob(c.get('origin'), c.req.param('sha256'), body, {
        offset: Number(q('offset') || '0'),
        size: Number(q('size')),
        cipherSha256: q('cipherSha256'),
        replace: q('replace') === '1',
      });
      return c.json(state);
    })
    .get('/v1/peer/blobs/:sha256', (c) => {
      const blob = held.openBlob(c.get('origin'), c.req.param('sha256'));
      if (!blob) throw new VaultError('NOT_HELD', `no copy of ${c.req.param('sha256')} is held for ${c.get('origin')}`);
      return new Response(Readable.toWeb(blob.stream) as unknown as ReadableStream, {
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(blob.size) },
      });
    })
    .post('/v1/peer/blobs/:sha256/challenge', async (c) => {
      const mac = await held.challengeBlob(c.get('origin'), c.req.param('sha256'), await nonceOf(c));
      if (mac === null) throw new VaultError('NOT_HELD', `no copy of ${c.req.param('sha256')} is held`);
      return c.json({ hmacSha256: mac });
    })
    .get('/v1/peer/periods', (c) => c.json(held.listBundles(c.get('origin'), pageOf(c))))
    .put('/v1/peer/periods/:id', async (c) => {
      const id = periodIdOf(c.req.param('id'));
      const framed = await readBody(bodyOf(c as unknown as Context<PeerEnv>), MAX_FRAMED_BYTES);
      const stored = await held.receiveBundle(c.get('origin'), id, framed);
      deps.log(`peer ${c.get('origin')}: holding its period ${id} bundle (sha256 ${stored.sha256})`);
      return c.json(stored);
    })
    .get('/v1/peer/periods/:id', async (c) => {
      const id = periodIdOf(c.req.param('id'));
      const framed = await held.readBundle(c.get('origin'), id);
      if (!framed) throw new VaultError('NOT_HELD', `no bundle of period ${id} is held`);
      return c.body(new Uint8Array(framed), 200, { 'content-type': 'application/vnd.archive-seal.signed-bundle' });
    })
    .get('/v1/peer/journals', (c) => c.json(held.listJournals(c.get('origin'), pageOf(c))))
    .put('/v1/peer/journals/:key', async (c) => {
      const framed = await readBody(bodyOf(c as unknown as Context<PeerEnv>), MAX_FRAMED_BYTES);
      return c.json(await held.receiveJournal(c.get('origin'), c.req.param('key'), framed));
    })
    .get('/v1/peer/journals/:key', async (c) => {
      const framed = await held.readJournal(c.get('origin'), c.req.param('key'));
      if (!framed) throw new VaultError('NOT_HELD', `no journal segment ${c.req.param('key')} is held`);
      return c.body(new Uint8Array(framed), 200, { 'content-type': 'application/vnd.archive-seal.signed-bundle' });
    })
    .post('/v1/peer/journals/:key/challenge', async (c) => {
      const mac = await held.challengeSigned(c.get('origin'), 'journal', c.req.param('key'), await nonceOf(c));
      if (mac === null) throw new VaultError('NOT_HELD', `no journal segment ${c.req.param('key')} is held`);
      return c.json({ hmacSha256: mac });
    })
    .get('/v1/peer/certificates', (c) => {
      const { items, next } = held.listSigned(c.get('origin'), 'certificates', pageOf(c));
      return c.json({ certificates: items, next });
    })
    .put('/v1/peer/certificates/:key', async (c) => {
      const framed = await readBody(bodyOf(c as unknown as Context<PeerEnv>), MAX_FRAMED_BYTES);
      return c.json(await held.receiveCertificates(c.get('origin'), c.req.param('key'), framed));
    })
    .get('/v1/peer/certificates/:key', async (c) => {
      const framed = await held.readSigned(c.get('origin'), 'certificates', c.req.param('key'));
      if (!framed) throw new VaultError('NOT_HELD', `no certificate segment ${c.req.param('key')} is held`);
      return c.body(new Uint8Array(framed), 200, { 'content-type': 'application/vnd.archive-seal.signed-bundle' });
    })
    .post('/v1/peer/certificates/:key/challenge', async (c) => {
      const mac = await held.challengeSigned(c.get('origin'), 'certificates', c.req.param('key'), await nonceOf(c));
      if (mac === null) throw new VaultError('NOT_HELD', `no certificate segment ${c.req.param('key')} is held`);
      return c.json({ hmacSha256: mac });
    })
    .get('/v1/peer/chains', (c) => {
      const { items, next } = held.listSigned(c.get('origin'), 'chain', pageOf(c));
      return c.json({ chains: items, next });
    })
    .put('/v1/peer/chains/:name', async (c) => {
      const framed = await readBody(bodyOf(c as unknown as Context<PeerEnv>), MAX_FRAMED_BYTES);
      const stored = await held.receiveChainState(c.get('origin'), c.req.param('name'), framed);
      deps.log(`peer ${c.get('origin')}: holding the state of its chain ${c.req.param('name')} (sha256 ${stored.sha256})`);
      return c.json(stored);
    })
    .get('/v1/peer/chains/:name', async (c) => {
      const framed = await held.readSigned(c.get('origin'), 'chain', c.req.param('name'));
      if (!framed) throw new VaultError('NOT_HELD', `no state of chain ${c.req.param('name')} is held`);
      return c.body(new Uint8Array(framed), 200, { 'content-type': 'application/vnd.archive-seal.signed-bundle' });
    })
    .post('/v1/peer/chains/:name/challenge', async (c) => {
      const mac = await held.challengeSigned(c.get('origin'), 'chain', c.req.param('name'), await nonceOf(c));
      if (mac === null) throw new VaultError('NOT_HELD', `no state of chain ${c.req.param('name')} is held`);
      return c.json({ hmacSha256: mac });
    })
    .post('/v1/peer/periods/:id/challenge', async (c) => {
      const id = periodIdOf(c.req.param('id'));
      const mac = await held.challengeBundle(c.get('origin'), id, await nonceOf(c));
      if (mac === null) throw new VaultError('NOT_HELD', `no bundle of period ${id} is held`);
      return c.json({ hmacSha256: mac });
    });
  app.notFound((c) => c.json({ error: { code: 'ROUTE_NOT_FOUND', message: `no route ${c.req.method} ${c.req.path}` } }, 404));
  app.onError((err, c) => {
    if (err instanceof VaultError) {
      const extra = 'received' in err ? { received: (err as { received: number }).received } : {};
      return c.json({ error: { code: err.code, message: err.message, ...extra } }, VAULT_ERROR_STATUS[err.code]);
    }
    deps.log(`peer listener: internal error on ${c.req.method} ${c.req.path}: ${(err as Error).stack ?? String(err)}`);
    return c.json({ error: { code: 'INTERNAL', message: 'internal error; the center has logged it' } }, 500);
  });
  return app;
}

/**
 * A list's page from `?limit=` (1 to HELD_PAGE_MAX, HELD_PAGE_DEFAULT when absent) and `?after=`
 * (the previous page's `next`). A client of an earlier version names neither: it gets the first
 * page and a `next` it does not read.
 */
function pageOf(c: { req: { query(name: string): string | undefined } }): HeldPage {
  const limit = c.req.query('limit');
  const after = c.req.query('after');
  if (limit !== undefined && (!/^[1-9]\d{0,5}$/.test(limit) || Number(limit) > HELD_PAGE_MAX)) {
    throw new VaultError('INVALID_REQUEST', `limit must be a whole number from 1 to ${HELD_PAGE_MAX}`);
  }
  if (after !== undefined && (after.length === 0 || after.length > 200)) throw new VaultError('INVALID_REQUEST', 'after must be the next of a previous page');
  return { limit: limit === undefined ? HELD_PAGE_DEFAULT : Number(limit), ...(after !== undefined && { after }) };
}

function bodyOf(c: Context<PeerEnv>): Readable {
  const body = requestBodyStream(c as unknown as Context<AppEnv>);
  if (!body) throw new VaultError('INVALID_REQUEST', 'the request has no body');
  return body;
}

async function nonceOf(c: { req: { json(): Promise<unknown> } }): Promise<Buffer> {
  let nonce: unknown;
  try {
    nonce = ((await c.req.json()) as { nonce?: unknown }).nonce;
  } catch {
    throw new VaultError('INVALID_REQUEST', 'send { "nonce": "<hex>" }');
  }
  if (typeof nonce !== 'string' || !/^[0-9a-f]{32,128}$/.test(nonce)) throw new VaultError('INVALID_REQUEST', 'the nonce must be 16 to 64 bytes of hex');
  return Buffer.from(nonce, 'hex');
}

function periodIdOf(value: string): number {
  const id = Number(value);
  if (!/^[1-9]\d{0,15}$/.test(value) || !Number.isSafeInteger(id)) throw new VaultError('INVALID_REQUEST', 'a period id is a positive integer');
  return id;
}

async function readBody(body: Readable, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body) {
    length += (chunk as Buffer).length;
    if (length > max) throw new VaultError('INVALID_REQUEST', `the body is larger than ${max} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
