import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync, existsSync, readdirSync, unlinkSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.js';
import { BlobTooLargeError } from '../../src/vault/blob-store.js';
import { cipherSizeOf, HEADER_BYTES, TAG_BYTES } from '../../src/vault/blob-cipher.js';
import { formatMasterKey, generateMasterKey, parseMasterKey } from '../../src/vault/master-key.js';
import { Vault } from '../../src/vault/vault.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const SEGMENT = 4096; // small segments: boundaries are cheap to reach
const dir = makeTempDir();
let store: Store;
let vault: Vault;

beforeAll(async () => {
  store = await Store.open({ file: join(dir.path, 'db.sqlite') });
  vault = new Vault({ root: join(dir.path, 'blobs'), store, masterKey: Vault.loadMasterKey(store, join(dir.path, 'master.key')), segmentBytes: SEGMENT });
});
afterAll(async () => {
  await vault.close();
  store.close();
  dir.remove();
});

/** A stream of `data` in chunks of odd sizes, as a network would deliver it. */
function chunked(data: Buffer, size = 1000): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) parts.push(data.subarray(i, i + size));
  return Readable.from(parts.length > 0 ? parts : [], { objectMode: false });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sm3 = (b: Buffer) => createHash('sm3').update(b).digest('hex');

describe('the encrypted vault', () => {
  it.each([0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 3 * SEGMENT, 5 * SEGMENT + 17])('stores and gives back %i bytes, encrypted at rest', async (n) => {
    const data = randomBytes(n);
    const blob = await vault.ingest(chunked(data, 777), { maxBytes: 1 << 20 });
    expect(blob).toEqual({ sha256: sha(data), sm3: sm3(data), size: n });
    const file = readFileSync(vault.pathOf(blob.sha256));
    expect(file.length).toBe(cipherSizeOf(n, SEGMENT));
    if (n >= 64) expect(file.includes(data.subarray(0, 64))).toBe(false); // no plaintext on disk
    const reader = await vault.open(blob.sha256, { sm3: blob.sm3, size: n });
    expect(reader.size).toBe(n);
    expect((await readAll(reader.stream)).equals(data)).toBe(true);
    expect(await vault.has(blob.sha256)).toBe(true);
  });

  it('keeps one copy of content ingested twice, and nothing in tmp', async () => {
    const data = randomBytes(3 * SEGMENT + 5);
    const [a, b] = await Promise.all([vault.ingest(chunked(data), { maxBytes: 1 << 20 }), vault.ingest(chunked(data), { maxBytes: 1 << 20 })]);
    expect(a).toEqual(b);
    expect((await readAll((await vault.open(a.sha256)).stream)).equals(data)).toBe(true);
    expect(readdirSync(join(dir.path, 'blobs', 'tmp'))).toEqual([]);
  });

  it('refuses a stream over the limit and keeps nothing of it', async () => {
    const data = randomBytes(10 * SEGMENT);
    await expect(vault.ingest(chunked(data), { maxBytes: 5 * SEGMENT })).rejects.toBeInstanceOf(BlobTooLargeError);
    expect(await vault.has(sha(data))).toBe(false);
    expect(readdirSync(join(dir.path, 'blobs', 'tmp'))).toEqual([]);
  });

  it('keeps nothing when the caller refuses the digests, and the error is the caller\'s', async () => {
    const data = randomBytes(2 * SEGMENT + 3);
    const seen: unknown[] = [];
    const refusal = new Error('the declared SM3 differs');
    const accept = async (blob: unknown) => {
      seen.push(blob);
      await new Promise((r) => setTimeout(r, 5)); // the caller may wait for the rest of its request
      throw refusal;
    };
    await expect(vault.ingest(chunked(data), { maxBytes: 1 << 20, accept })).rejects.toBe(refusal);
    expect(seen).toEqual([{ sha256: sha(data), sm3: sm3(data), size: data.length }]);
    expect(await vault.has(sha(data))).toBe(false);
    expect(existsSync(vault.pathOf(sha(data)))).toBe(false);
    expect(readdirSync(join(dir.path, 'blobs', 'tmp'))).toEqual([]);
    // Accepted but not to be kept: its digests, and no copy.
    expect(await vault.ingest(chunked(data), { maxBytes: 1 << 20, accept: () => 'discard' })).toEqual({ sha256: sha(data), sm3: sm3(data), size: data.length });
    expect(await vault.has(sha(data))).toBe(false);
    expect(readdirSync(join(dir.path, 'blobs', 'tmp'))).toEqual([]);
    // Accepted, the same content is kept.
    await vault.ingest(chunked(data), { maxBytes: 1 << 20, accept: () => {} });
    expect(await vault.has(sha(data))).toBe(true);
  });

  it('releases no plaintext of a segment that does not authenticate', async () => {
    const data = randomBytes(4 * SEGMENT);
    const blob = await vault.ingest(chunked(data), { maxBytes: 1 << 20 });
    const path = vault.pathOf(blob.sha256);
    const original = readFileSync(path);
    const damaged = Buffer.from(original);
    damaged[HEADER_BYTES + 2 * (SEGMENT + TAG_BYTES) + 10]! ^= 0x01; // a bit of the third segment
    writeFileSync(path, damaged);
    const received: Buffer[] = [];
    const reader = await vault.open(blob.sha256);
    await expect(
      (async () => {
        for await (const c of reader.stream) received.push(c as Buffer);
      })(),
    ).rejects.toMatchObject({ code: 'BLOB_CORRUPT' });
    expect(Buffer.concat(received).equals(data.subarray(0, 2 * SEGMENT))).toBe(true); // the good segments before it only
    expect(await vault.checkLocal(blob.sha256)).toMatchObject({ ok: false });
    expect(vault.rowOf(blob.sha256)?.status).toBe('damaged');
    writeFileSync(path, original);
    expect(await vault.checkLocal(blob.sha256)).toMatchObject({ ok: true });
  });

  it('notices a file cut at a segment boundary, and a file moved under another blob\'s name', async () => {
    const a = randomBytes(3 * SEGMENT);
    const b = randomBytes(3 * SEGMENT);
    const blobA = await vault.ingest(chunked(a), { maxBytes: 1 << 20 });
    const blobB = await vault.ingest(chunked(b), { maxBytes: 1 << 20 });
    const pathA = vault.pathOf(blobA.sha256);
    const original = readFileSync(pathA);
    writeFileSync(pathA, original.subarray(0, HEADER_BYTES + 2 * (SEGMENT + TAG_BYTES)));
    const cut = await vault.checkLocal(blobA.sha256);
    expect(cut.ok).toBe(false);
    writeFileSync(pathA, readFileSync(vault.pathOf(blobB.sha256)));
    const swapped = await vault.checkLocal(blobA.sha256);
    expect(swapped).toMatchObject({ ok: false });
    expect(swapped.problem).toMatch(/does not unwrap/);
    writeFileSync(pathA, original);
    expect((await vault.checkLocal(blobA.sha256)).ok).toBe(true);
  });

  it('ends a read with an error, not a complete wrong file, when the registered digests differ', async () => {
    const data = randomBytes(2 * SEGMENT + 3);
    const blob = await vault.ingest(chunked(data), { maxBytes: 1 << 20 });
    await expect(vault.open(blob.sha256, { sm3: '0'.repeat(64) })).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    await expect(vault.open(blob.sha256, { size: data.length + 1 })).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
  });

  it('replaces a damaged copy with a good ciphertext only after checking it end to end', async () => {
    const data = randomBytes(3 * SEGMENT + 100);
    const blob = await vault.ingest(chunked(data), { maxBytes: 1 << 20 });
    const path = vault.pathOf(blob.sha256);
    const good = readFileSync(path);
    const cipherSha256 = await vault.cipherSha256(blob.sha256);
    const bad = Buffer.from(good);
    bad[bad.length - 1]! ^= 0xff;
    const error = await vault.installCiphertext(blob.sha256, Readable.from([bad]), { sm3: blob.sm3, size: blob.size }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'VaultError', code: 'BLOB_CORRUPT' });
    // A copy whose own SHA-256 is not the one expected is refused before it is even decrypted.
    await expect(
      vault.installCiphertext(blob.sha256, Readable.from([good]), { sm3: blob.sm3, size: blob.size, cipherSha256: '0'.repeat(64) }),
    ).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(readdirSync(join(dir.path, 'blobs', 'tmp'))).toEqual([]);
    expect(readFileSync(path).equals(good)).toBe(true);
    unlinkSync(path);
    expect((await vault.checkLocal(blob.sha256)).ok).toBe(false);
    expect(vault.rowOf(blob.sha256)?.status).toBe('missing');
    await vault.installCiphertext(blob.sha256, Readable.from([good]), { sm3: blob.sm3, size: blob.size, cipherSha256 });
    expect((await readAll((await vault.open(blob.sha256)).stream)).equals(data)).toBe(true);
    expect(vault.rowOf(blob.sha256)?.status).toBe('ok');
  });
});

describe('the master key', () => {
  it('is made on first start, mode 0600, and round-trips through its text form', () => {
    const file = join(dir.path, 'master.key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const key = parseMasterKey(readFileSync(file, 'utf8'));
    expect(key.id).toBe(vault.masterKey.id);
    expect(parseMasterKey(formatMasterKey(key)).key.equals(key.key)).toBe(true);
    const damaged = formatMasterKey(key).replace(/key: (.)/, (_m, c: string) => `key: ${c === 'A' ? 'B' : 'A'}`);
    expect(() => parseMasterKey(damaged)).toThrow(/key-id/);
  });

  it('is never replaced: a missing or different key stops the start', () => {
    const file = join(dir.path, 'master.key');
    renameSync(file, `${file}.away`);
    try {
      expect(() => Vault.loadMasterKey(store, file)).toThrow(expect.objectContaining({ code: 'MASTER_KEY_MISSING' }));
      expect(existsSync(file)).toBe(false);
      writeFileSync(file, formatMasterKey(generateMasterKey()));
      expect(() => Vault.loadMasterKey(store, file)).toThrow(expect.objectContaining({ code: 'MASTER_KEY_MISMATCH' }));
    } finally {
      renameSync(`${file}.away`, file);
    }
    expect(Vault.loadMasterKey(store, file).id).toBe(vault.masterKey.id);
  });
});
