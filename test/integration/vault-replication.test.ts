import { createHash, createHmac, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../helpers/server-process.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { eventually, makeFederation, makeForeignRoot, makeTlsFiles, upload, type PeerCenter } from '../vault/peer-fixture.js';

// Two real centers on 127.0.0.1 that back each other up over mutual TLS.
const dir = makeTempDir();
let a: PeerCenter;
let b: PeerCenter;
const files = new Map<string, Buffer>(); // sha256 → original

beforeAll(async () => {
  const federation = await makeFederation(dir.path, ['center-a', 'center-b']);
  a = federation[0]!;
  b = federation[1]!;
  await Promise.all([a.start(), b.start()]);
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  dir.remove();
});

const status = async (c: PeerCenter, query = '') => (await api(c.server!.url, c.server!.adminToken, 'GET', `/v1/backup/status${query}`)).body;
const allVerified = async (c: PeerCenter) => {
  const s = await status(c);
  return s.blobs.belowMinimum === 0 && s.periods.belowMinimum === 0 && s.peers.every((p: any) => p.pending === 0 && p.damagedOrMissing === 0) ? s : undefined;
};
const heldBlobFile = (holder: PeerCenter, origin: string, sha256: string) => join(holder.dataDir, 'held', origin, 'blobs', sha256.slice(0, 2), sha256);

async function register(c: PeerCenter, size: number, fileName: string): Promise<any> {
  const data = randomBytes(size);
  const r = await upload(c.server!.url, c.server!.adminToken, data, { category: 'agency.digitized' }, fileName);
  files.set(r.digests.sha256, data);
  return r;
}

describe('off-site replication between two centers', () => {
  it('pushes each new blob (encrypted) and each sealed period\'s signed bundle to the peer, and counts only confirmed copies', async () => {
    const first = await register(a, 300_000, '档案-1.pdf');
    const second = await register(a, 2_500_000, 'scan-2.tif');
    await api(a.server!.url, a.server!.adminToken, 'POST', '/v1/registrations', { sha256: createHash('sha256').update('hash-only').digest('hex'), category: 'voluntary.individual' });
    expect((await api(a.server!.url, a.server!.adminToken, 'POST', '/v1/periods/seal')).status).toBe(201);

    const s = await eventually(() => allVerified(a), 'every copy at center-b verified');
    expect(s).toMatchObject({ minimumCopies: 2, blobs: { total: 2, belowMinimum: 0 }, periods: { total: 1, belowMinimum: 0 } });
    expect(s.peers).toEqual([expect.objectContaining({ id: 'center-b', verified: 3, pending: 0 })]);
    const item = s.items.find((i: any) => i.id === first.digests.sha256);
    expect(item).toMatchObject({ kind: 'blob', verifiedCopies: 2, belowMinimum: false });
    expect(item.copies.map((c: any) => [c.where, c.status])).toEqual([['local', 'ok'], ['center-b', 'verified']]);

    // The peer holds ciphertext it cannot read: not the original's bytes.
    for (const r of [first, second]) {
      const held = readFileSync(heldBlobFile(b, 'center-a', r.digests.sha256));
      const original = files.get(r.digests.sha256)!;
      expect(held.length).toBeGreaterThan(original.length);
      expect(held.includes(original.subarray(1000, 1064))).toBe(false);
    }
    expect(existsSync(join(b.dataDir, 'held', 'center-a', 'periods', '1.bundle'))).toBe(true);

    const events = (await api(a.server!.url, a.server!.adminToken, 'GET', '/v1/backup/events?type=replication')).body.events;
    expect(events).toEqual(expect.arrayContaining([expect.objectContaining({ eventType: 'replication', object: { kind: 'period', id: '1' }, copy: 'center-b', outcome: 'success' })]));
  });

  it('queues copies while the peer is down, raises alarms, and catches up when it is back', async () => {
    await b.stop();
    const late = await register(a, 150_000, 'late.pdf');
    expect((await api(a.server!.url, a.server!.adminToken, 'POST', '/v1/periods/seal')).status).toBe(201);
    const below = await eventually(async () => {
      const s = await status(a, '?belowMinimum=1');
      return s.blobs.belowMinimum === 1 && s.periods.belowMinimum === 1 ? s : undefined;
    }, 'the new blob and period below the minimum');
    expect(below.items.map((i: any) => i.id).sort()).toEqual(['2', late.digests.sha256].sort());
    const alarms = await eventually(async () => {
      const list = (await api(a.server!.url, a.server!.adminToken, 'GET', '/v1/alarms')).body.alarms;
      return list.some((x: any) => x.kind === 'copies-below-minimum') ? list : undefined;
    }, 'the copies-below-minimum alarm');
    expect(alarms.find((x: any) => x.kind === 'copies-below-minimum').message).toMatch(/1 of 3 blobs and 1 of 2 sealed periods have fewer than 2 verified copies/);
    expect(a.server!.output()).toMatch(/ALARM copies-below-minimum/);

    await b.start();
    await eventually(() => allVerified(a), 'center-a caught up with center-b');
    expect(readFileSync(heldBlobFile(b, 'center-a', late.digests.sha256)).length).toBeGreaterThan(150_000);
    await eventually(async () => {
      const list = (await api(a.server!.url, a.server!.adminToken, 'GET', '/v1/alarms')).body.alarms;
      return list.every((x: any) => x.kind !== 'copies-below-minimum') ? true : undefined;
    }, 'the alarm cleared');
  });
});

describe('fixity audits', () => {
  it('finds a byte changed in the peer\'s copy by a fresh challenge, and sends the copy again', async () => {
    const [sha256] = [...files.keys()];
    const path = heldBlobFile(b, 'center-a', sha256!);
    const held = readFileSync(path);
    held[held.length >> 1]! ^= 0x20;
    writeFileSync(path, held);

    const audit = await api(a.server!.url, a.server!.adminToken, 'POST', '/v1/backup/audit?all=1');
    expect(audit.status).toBe(200);
    expect(audit.body.localBlobs).toMatchObject({ checked: 3, failed: 0 });
    expect(audit.body.peerCopies).toMatchObject({ failed: 1 });
    const failures = (await api(a.server!.url, a.server!.adminToken, 'GET', `/v1/backup/events?type=fixity%20check&outcome=failure&object=${sha256}`)).body.events;
    expect(failures[0]).toMatchObject({ object: { kind: 'blob', id: sha256 }, copy: 'center-b', outcome: 'failure' });
    expect(failures[0].detail).toMatch(/does not match/);

    await eventually(() => allVerified(a), 'the damaged copy sent again');
    expect(readFileSync(path).equals(held)).toBe(false);
    const again = await api(a.server!.url, a.server!.adminToken, 'POST', '/v1/backup/audit?all=1');
    expect(again.body.peerCopies).toMatchObject({ failed: 0, unreachable: 0 });
    expect(again.body.peerCopies.checked).toBe(5); // 3 blobs and 2 periods at center-b
    const alarms = (await api(a.server!.url, a.server!.adminToken, 'GET', '/v1/alarms?all=1')).body.alarms;
    expect(alarms).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'audit-failed', subject: `blob ${sha256} @ center-b`, clearedAt: expect.any(String) })]));
  });

  it('finds a byte changed in its own copy and repairs it from the peer\'s', async () => {
    const sha256 = [...files.keys()][1]!;
    const local = join(a.dataDir, 'blobs', 'sha256', sha256.slice(0, 2), sha256.slice(2, 4), sha256);
    const damaged = readFileSync(local);
    damaged[200]! ^= 0x01;
    writeFileSync(local, damaged);

    const audit = await api(a.server!.url, a.server!.adminToken, 'POST', '/v1/backup/audit?all=1');
    expect(audit.body.localBlobs).toMatchObject({ failed: 1, repaired: 1 });
    const events = (await api(a.server!.url, a.server!.adminToken, 'GET', `/v1/backup/events?object=${sha256}`)).body.events.filter((e: any) => e.copy === 'local');
    expect(events.slice(0, 2).map((e: any) => [e.eventType, e.copy, e.outcome])).toEqual([
      ['recovery', 'local', 'success'],
      ['fixity check', 'local', 'failure'],
    ]);
    expect(events[0].agent).toBe('peer center-b');

    const registrations = (await api(a.server!.url, a.server!.adminToken, 'GET', '/v1/registrations')).body.registrations;
    const id = registrations.find((r: any) => r.digests.sha256 === sha256).id;
    const res = await fetch(`${a.server!.url}/v1/registrations/${id}/file`, { headers: { authorization: `Bearer ${a.server!.adminToken}` } });
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(files.get(sha256)!)).toBe(true);
  });
});

describe('the same content uploaded again after the local copy was lost', () => {
  it('replaces the peers\' copies with the new encryption, so the next audit finds every copy matching', async () => {
    const sha256 = [...files.keys()][2]!;
    const local = join(a.dataDir, 'blobs', 'sha256', sha256.slice(0, 2), sha256.slice(2, 4), sha256);
    const before = readFileSync(heldBlobFile(b, 'center-a', sha256));
    rmSync(local);

    const form = new FormData();
    form.append('category', 'agency.digitized');
    form.append('file', new Blob([new Uint8Array(files.get(sha256)!)]), 'again.pdf');
    const res = await fetch(`${a.server!.url}/v1/registrations`, { method: 'POST', headers: { authorization: `Bearer ${a.server!.adminToken}` }, body: form });
    expect(res.status).toBe(200); // the registration exists; the file is held again, under a new data key
    expect(readFileSync(local).equals(before)).toBe(false);

    await eventually(async () => (!readFileSync(heldBlobFile(b, 'center-a', sha256)).equals(before) ? allVerified(a) : undefined), 'the peer holds the new copy');
    expect(readFileSync(heldBlobFile(b, 'center-a', sha256)).equals(readFileSync(local))).toBe(true);
    const audit = await api(a.server!.url, a.server!.adminToken, 'POST', '/v1/backup/audit?all=1');
    expect(audit.body.localBlobs).toMatchObject({ failed: 0 });
    expect(audit.body.peerCopies).toMatchObject({ failed: 0, unreachable: 0 });
  });
});

/** The raw bytes of a GET from a peer listener. */
function peerBytes(url: string, tls: { cert: string; key: string }, path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, url), { cert: tls.cert, key: tls.key, ca: readFileSync(join(import.meta.dirname, '..', '..', 'certs', 'dev', 'root-ca.pem'), 'utf8'), agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`GET ${path}: ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

/** An HTTPS request to a peer listener with the given client certificate; resolves with status and body, or rejects. */
function peerRequest(url: string, tls: { cert: string; key: string }, method: string, path: string, body?: Buffer, ca?: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, url),
      { method, cert: tls.cert, key: tls.key, ca: ca ?? readFileSync(join(import.meta.dirname, '..', '..', 'certs', 'dev', 'root-ca.pem'), 'utf8'), agent: false, headers: body ? { 'content-length': String(body.length) } : {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // keep text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('the peer listener', () => {
  it('refuses a client certificate from another root at the TLS handshake', async () => {
    const foreign = makeTlsFiles(join(dir.path, 'foreign'), 'center-a', makeForeignRoot());
    await expect(peerRequest(b.peerUrl, foreign, 'GET', '/v1/peer/hello')).rejects.toThrow();
  });

  it('answers 403 to a certificate under the shared root that is not a configured peer', async () => {
    const stranger = makeTlsFiles(join(dir.path, 'stranger'), 'center-x');
    const res = await peerRequest(b.peerUrl, stranger, 'GET', '/v1/peer/hello');
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('PEER_UNKNOWN');
  });

  it('refuses what a configured peer sends wrong with the right 4xx, holding nothing of it', async () => {
    const tls = { cert: a.tls.cert, key: a.tls.key };
    const name = createHash('sha256').update('never sent').digest('hex');
    const refused = async (method: string, path: string, body?: Buffer) => {
      const res = await peerRequest(b.peerUrl, tls, method, path, body);
      return [res.status, res.body.error?.code];
    };
    expect(await refused('GET', `/v1/peer/blobs/${name}`)).toEqual([404, 'NOT_HELD']);
    expect(await refused('POST', `/v1/peer/blobs/${name}/challenge`, Buffer.from(JSON.stringify({ nonce: 'cd'.repeat(32) })))).toEqual([404, 'NOT_HELD']);
    expect(await refused('GET', '/v1/peer/periods/9999')).toEqual([404, 'NOT_HELD']);
    expect(await refused('PUT', `/v1/peer/blobs/${name}?offset=0&size=10&cipherSha256=xyz`, Buffer.alloc(10))).toEqual([400, 'INVALID_REQUEST']);
    expect(await refused('PUT', `/v1/peer/blobs/${name}?offset=0&size=4&cipherSha256=${'0'.repeat(64)}`, Buffer.alloc(10))).toEqual([400, 'INVALID_REQUEST']);
    expect(await refused('PUT', '/v1/peer/periods/1', Buffer.from('not a framed bundle'))).toEqual([422, 'BUNDLE_INVALID']);
    // A bundle center-a signed, offered under another period's number.
    const own = await peerRequest(b.peerUrl, tls, 'GET', '/v1/peer/periods');
    const held = own.body.periods[0] as { periodId: number };
    expect(held).toBeDefined(); // the periods replicated by the tests above
    const framed = await peerBytes(b.peerUrl, tls, `/v1/peer/periods/${held.periodId}`);
    expect(await refused('PUT', `/v1/peer/periods/${held.periodId + 100}`, framed)).toEqual([422, 'BUNDLE_INVALID']);
    expect((await peerRequest(b.peerUrl, tls, 'GET', '/v1/peer/periods')).body).toEqual(own.body);
    expect((await peerRequest(b.peerUrl, tls, 'GET', `/v1/peer/blobs/${name}/state`)).body).toEqual({ received: 0, complete: false, sha256: null });
  });

  it('keeps what arrived of a cut transfer and takes the rest from that offset', async () => {
    const tls = { cert: a.tls.cert, key: a.tls.key };
    const hello = await peerRequest(b.peerUrl, tls, 'GET', '/v1/peer/hello');
    expect(hello.body).toEqual({ center: 'center-b', you: 'center-a' });
    const bytes = randomBytes(200_000);
    const name = createHash('sha256').update('a blob that is not one').digest('hex');
    const cipherSha256 = createHash('sha256').update(bytes).digest('hex');
    const put = (offset: number, part: Buffer) =>
      peerRequest(b.peerUrl, tls, 'PUT', `/v1/peer/blobs/${name}?offset=${offset}&size=${bytes.length}&cipherSha256=${cipherSha256}`, part);
    expect((await put(0, bytes.subarray(0, 80_000))).body).toEqual({ received: 80_000, complete: false, sha256: null });
    expect((await peerRequest(b.peerUrl, tls, 'GET', `/v1/peer/blobs/${name}/state`)).body).toEqual({ received: 80_000, complete: false, sha256: null });
    const wrong = await put(10, bytes.subarray(10));
    expect(wrong.status).toBe(409);
    expect(wrong.body.error).toMatchObject({ code: 'OFFSET_MISMATCH', received: 80_000 });
    expect((await put(80_000, bytes.subarray(80_000))).body).toEqual({ received: bytes.length, complete: true, sha256: cipherSha256 });
    const challenge = await peerRequest(b.peerUrl, tls, 'POST', `/v1/peer/blobs/${name}/challenge`, Buffer.from(JSON.stringify({ nonce: 'ab'.repeat(32) })));
    expect(challenge.body.hmacSha256).toBe(createHmac('sha256', Buffer.from('ab'.repeat(32), 'hex')).update(bytes).digest('hex'));
  });
});
