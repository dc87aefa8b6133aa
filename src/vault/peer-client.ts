import { Agent, request, type RequestOptions } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import type { Readable } from 'node:stream';
import type { PeerConfig } from './peer-config.js';
import { certificateIsPeer, type TlsIdentity } from './peer-tls.js';
import { VaultError } from './vault-error.js';

/** Signed documents a peer keeps besides period bundles. */
export type DocumentKind = 'journal' | 'certificates' | 'chain';
const DOCUMENT_PATHS: Readonly<Record<DocumentKind | 'period', string>> = { journal: 'journals', certificates: 'certificates', chain: 'chains', period: 'periods' };

/** Items asked for per page of a peer's lists (its listener's largest is 5,000). */
const LIST_PAGE = 1000;

/** What a peer says about a blob it holds (or is receiving) for us. */
export interface HeldBlobState {
  received: number;
  complete: boolean;
  /** SHA-256 (hex) of the held ciphertext, once complete. */
  sha256: string | null;
}

/**
 * The narrow edge to one peer center, over HTTPS with mutual TLS: our certificate goes with
 * every request; the peer's must chain to the shared root and be the configured one (pinned
 * fingerprint, or subject plus the usual host name check). A refused handshake is an error
 * like any other: the copy is not there.
 */
export interface Peer {
  readonly id: string;
  readonly url: string;
  hello(): Promise<{ center: string; you: string }>;
  blobState(sha256: string): Promise<HeldBlobState>;
  /** Sends ciphertext bytes from `offset` of a `size`-byte file whose SHA-256 is `cipherSha256`. */
  putBlob(sha256: string, body: Readable, options: { offset: number; size: number; cipherSha256: string; replace?: boolean }): Promise<HeldBlobState>;
  /** The held ciphertext, streamed. */
  getBlob(sha256: string): Promise<Readable>;
  /** HMAC-SHA-256 under `nonce` of the held ciphertext, or null when the peer does not hold it. */
  challengeBlob(sha256: string, nonce: Buffer): Promise<string | null>;
  listBlobs(): Promise<{ sha256: string; size: number; cipherSha256: string }[]>;
  putBundle(periodId: number, framed: Buffer): Promise<{ sha256: string }>;
  getBundle(periodId: number): Promise<Buffer>;
  challengeBundle(periodId: number, nonce: Buffer): Promise<string | null>;
  listBundles(): Promise<{ periodId: number; sha256: string; size: number }[]>;
  putJournal(key: string, framed: Buffer): Promise<{ sha256: string }>;
  getJournal(key: string): Promise<Buffer>;
  listJournals(): Promise<{ key: string; sha256: string; size: number }[]>;
  /**
   * The signed documents besides bundles, by kind: journal segments, certificate segments and
   * the embedded chain's state. `challengeDocument` is HMAC-SHA-256 under `nonce` of every byte
   * held (framing, signature and content), null when not held.
   */
  putDocument(kind: DocumentKind, key: string, framed: Buffer): Promise<{ sha256: string }>;
  getDocument(kind: DocumentKind, key: string): Promise<Buffer>;
  listDocuments(kind: DocumentKind): Promise<{ key: string; sha256: string; size: number }[]>;
  challengeDocument(kind: DocumentKind | 'period', key: string, nonce: Buffer): Promise<string | null>;
  close(): void;
}

/** A {@link Peer} over node:https. */
export class HttpsPeer implements Peer {
  readonly id: string;
  readonly url: string;
  private readonly agent: Agent;

  constructor(
    private readonly config: PeerConfig,
    tls: TlsIdentity,
    private readonly timeoutMs = 30_000,
  ) {
    this.id = config.id;
    this.url = config.url;
    this.agent = new Agent({
      keepAlive: true,
      maxSockets: 4,
      cert: tls.cert,
      key: tls.key,
      ca: tls.ca,
      rejectUnauthorized: true,
      checkServerIdentity: (host, cert) => this.checkIdentity(host, cert),
    });
  }

  async hello() {
    return (await this.json('GET', '/v1/peer/hello')) as { center: string; you: string };
  }

  async blobState(sha256: string): Promise<HeldBlobState> {
    return (await this.json('GET', `/v1/peer/blobs/${sha256}/state`)) as HeldBlobState;
  }

  async putBlob(sha256: string, body: Readable, options: { offset: number; size: number; cipherSha256: string; replace?: boolean }) {
    const query = new URLSearchParams({
      offset: String(options.offset),
      size: String(options.size),
      cipherSha256: options.cipherSha256,
      ...(options.replace && { replace: '1' }),
    });
    const res = await this.send('PUT', `/v1/peer/blobs/${sha256}?${query}`, {
      body,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(options.size - options.offset) },
    });
    return (await answer(res, this.id)) as HeldBlobState;
  }

  async getBlob(sha256: string): Promise<Readable> {
    const res = await this.send('GET', `/v1/peer/blobs/${sha256}`);
    if (res.statusCode !== 200) await answer(res, this.id);
    return res;
  }

  async challengeBlob(sha256: string, nonce: Buffer): Promise<string | null> {
    return this.challenge(`/v1/peer/blobs/${sha256}/challenge`, nonce);
  }

  async listBlobs() {
    return this.allPages<{ sha256: string; size: number; cipherSha256: string }>('/v1/peer/blobs', 'blobs');
  }

  async putBundle(periodId: number, framed: Buffer) {
    const res = await this.send('PUT', `/v1/peer/periods/${periodId}`, {
      body: framed,
      headers: { 'content-type': 'application/vnd.archive-seal.signed-bundle', 'content-length': String(framed.length) },
    });
    return (await answer(res, this.id)) as { sha256: string };
  }

  async getBundle(periodId: number): Promise<Buffer> {
    const res = await this.send('GET', `/v1/peer/periods/${periodId}`);
    if (res.statusCode !== 200) await answer(res, this.id);
    return readAll(res);
  }

  async challengeBundle(periodId: number, nonce: Buffer): Promise<string | null> {
    return this.challenge(`/v1/peer/periods/${periodId}/challenge`, nonce);
  }

  /** In period order (a peer pages them by id as text). */
  async listBundles() {
    return (await this.allPages<{ periodId: number; sha256: string; size: number }>('/v1/peer/periods', 'periods')).sort((a, b) => a.periodId - b.periodId);
  }

  async putJournal(key: string, framed: Buffer) {
    const res = await this.send('PUT', `/v1/peer/journals/${encodeURIComponent(key)}`, {
      body: framed,
      headers: { 'content-type': 'application/vnd.archive-seal.signed-bundle', 'content-length': String(framed.length) },
    });
    return (await answer(res, this.id)) as { sha256: string };
  }

  async getJournal(key: string): Promise<Buffer> {
    const res = await this.send('GET', `/v1/peer/journals/${encodeURIComponent(key)}`);
    if (res.statusCode !== 200) await answer(res, this.id);
    return readAll(res);
  }

  async listJournals() {
    return this.allPages<{ key: string; sha256: string; size: number }>('/v1/peer/journals', 'journals');
  }

  async putDocument(kind: DocumentKind, key: string, framed: Buffer) {
    const res = await this.send('PUT', `/v1/peer/${DOCUMENT_PATHS[kind]}/${encodeURIComponent(key)}`, {
      body: framed,
      headers: { 'content-type': 'application/vnd.archive-seal.signed-bundle', 'content-length': String(framed.length) },
    });
    return (await answer(res, this.id)) as { sha256: string };
  }

  async getDocument(kind: DocumentKind, key: string): Promise<Buffer> {
    const res = await this.send('GET', `/v1/peer/${DOCUMENT_PATHS[kind]}/${encodeURIComponent(key)}`);
    if (res.statusCode !== 200) await answer(res, this.id);
    return readAll(res);
  }

  async listDocuments(kind: DocumentKind) {
    try {
      return await this.allPages<{ key: string; sha256: string; size: number }>(`/v1/peer/${DOCUMENT_PATHS[kind]}`, DOCUMENT_PATHS[kind]);
    } catch (err) {
      // A peer of an earlier version has no such route, so it holds none of them.
      if ((err as { peerCode?: string }).peerCode === 'ROUTE_NOT_FOUND') return [];
      throw err;
    }
  }

  async challengeDocument(kind: DocumentKind | 'period', key: string, nonce: Buffer): Promise<string | null> {
    return this.challenge(`/v1/peer/${DOCUMENT_PATHS[kind]}/${encodeURIComponent(key)}/challenge`, nonce);
  }

  close(): void {
    this.agent.destroy();
  }

  private async challenge(path: string, nonce: Buffer): Promise<string | null> {
    const body = Buffer.from(JSON.stringify({ nonce: nonce.toString('hex') }));
    const res = await this.send('POST', path, { body, headers: { 'content-type': 'application/json', 'content-length': String(body.length) } });
    if (res.statusCode === 404) {
      res.resume();
      return null;
    }
    return ((await answer(res, this.id)) as { hmacSha256: string }).hmacSha256;
  }

  /**
   * Every item of a paged list (`field` of each answer), page after page while the peer names a
   * `next`. A peer of an earlier version answers the whole list with no `next`: one page.
   */
  private async allPages<T>(path: string, field: string): Promise<T[]> {
    const items: T[] = [];
    const seen = new Set<string>();
    let after: string | undefined;
    for (;;) {
      const query = new URLSearchParams({ limit: String(LIST_PAGE), ...(after !== undefined && { after }) });
      const body = (await this.json('GET', `${path}?${query}`)) as Record<string, unknown>;
      const page = body[field];
      if (!Array.isArray(page)) throw new VaultError('PEER_FAILED', `peer ${this.id} answered ${path} without a list of ${field}`);
      items.push(...(page as T[]));
      const next = body.next;
      if (next === undefined || next === null) return items;
      // A cursor that comes back would page forever (the order is the peer's database's: not compared here).
      if (typeof next !== 'string' || seen.has(next) || page.length === 0) {
        throw new VaultError('PEER_FAILED', `peer ${this.id} answered ${path} with a next page that does not follow the last one`);
      }
      seen.add(next);
      after = next;
    }
  }

  private async json(method: string, path: string): Promise<unknown> {
    return answer(await this.send(method, path), this.id);
  }

  private checkIdentity(host: string, cert: PeerCertificate): Error | undefined {
    const pinned = this.config.fingerprint !== undefined || this.config.subject !== undefined;
    if (pinned && !certificateIsPeer(cert, this.config)) {
      return new Error(`the certificate of ${this.config.url} (${cert.subject?.CN ?? '?'}, SHA-256 ${cert.fingerprint256}) is not peer ${this.id}'s`);
    }
    // A pinned fingerprint names the certificate exactly; a subject (or nothing: a recovery
    // source given on the command line) also needs the host name.
    return this.config.fingerprint !== undefined ? undefined : checkServerIdentity(host, cert);
  }

  private send(method: string, path: string, options: { body?: Readable | Buffer; headers?: Record<string, string> } = {}): Promise<IncomingMessage> {
    const url = new URL(path, this.url + '/');
    const requestOptions: RequestOptions = { method, agent: this.agent, headers: { accept: 'application/json', ...options.headers }, timeout: this.timeoutMs };
    return new Promise((resolve, reject) => {
      const req = request(url, requestOptions, resolve);
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', (err: NodeJS.ErrnoException) =>
        reject(new VaultError('PEER_FAILED', `peer ${this.id} (${this.url}): ${err.code ? `${err.code}: ` : ''}${err.message}`, { cause: err })),
      );
      const body = options.body;
      if (!body) req.end();
      else if (Buffer.isBuffer(body)) req.end(body);
      else {
        body.on('error', (err) => req.destroy(err));
        body.pipe(req);
      }
    });
  }
}

/** Parses a JSON answer; a non-2xx answer becomes PEER_FAILED with the peer's code and message. */
async function answer(res: IncomingMessage, peer: string): Promise<unknown> {
  const text = (await readAll(res)).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new VaultError('PEER_FAILED', `peer ${peer} answered ${res.statusCode} with something that is not JSON`);
  }
  const status = res.statusCode ?? 0;
  if (status < 200 || status >= 300) {
    const error = (value as { error?: { code?: string; message?: string } }).error;
    throw Object.assign(new VaultError('PEER_FAILED', `peer ${peer} answered ${status} ${error?.code ?? ''}: ${error?.message ?? text.slice(0, 200)}`), {
      status,
      peerCode: error?.code,
      details: value,
    });
  }
  return value;
}

async function readAll(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
