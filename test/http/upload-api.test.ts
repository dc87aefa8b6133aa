import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestCenter, type TestCenter } from '../helpers/test-center.js';

let center: TestCenter;
beforeAll(async () => {
  center = await makeTestCenter({ ARCHIVE_SEAL_MAX_UPLOAD_BYTES: '100000' });
});
afterAll(() => center.destroy());

function form(file: Buffer | undefined, fields: Record<string, string>, fileName = '竣工图-A01.pdf'): FormData {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  if (file) fd.append('file', new Blob([new Uint8Array(file)], { type: 'application/pdf' }), fileName);
  return fd;
}

const blobsDir = () => join(center.dataDir, 'blobs');
const blobFiles = () => {
  const dir = join(blobsDir(), 'sha256');
  return existsSync(dir) ? readdirSync(dir, { recursive: true }).filter((f) => String(f).length > 60) : [];
};
const tmpFiles = () => {
  const dir = join(blobsDir(), 'tmp');
  return existsSync(dir) ? readdirSync(dir) : [];
};
/** What a refused upload must not leave: an original on disk, a vault row, a copy queued for the peers. */
const kept = () => ({
  files: blobFiles().length,
  rows: center.store.prepare('SELECT count(*) FROM vault_blob').pluck().get() as number,
  temporary: tmpFiles().length,
});

describe('POST /v1/registrations (multipart upload)', () => {
  it('hashes the file as it streams in (SHA-256 and SM3), keeps it under its digest, and registers it', async () => {
    const file = randomBytes(70_000);
    const res = await center.request('POST', '/v1/registrations', {
      token: center.adminToken,
      body: form(file, { category: 'project.as-built-drawings', title: '一号楼竣工图', metadata: JSON.stringify({ fondsCode: 'J012' }) }),
    });
    expect(res.status).toBe(201);
    const sha256 = createHash('sha256').update(file).digest('hex');
    expect(res.body.digests).toEqual({ sha256, sm3: createHash('sm3').update(file).digest('hex') });
    expect(res.body.record).toMatchObject({ fileName: '竣工图-A01.pdf', mediaType: 'application/pdf', size: 70_000, deposit: 'file', metadata: { fondsCode: 'J012' } });
    // Kept encrypted at rest: the stored bytes are not the file, and the file comes back whole.
    const stored = readFileSync(join(blobsDir(), 'sha256', sha256.slice(0, 2), sha256.slice(2, 4), sha256));
    expect(stored.includes(file.subarray(0, 64))).toBe(false);
    const download = await center.app.request(`/v1/registrations/${res.body.id}/file`, { headers: { authorization: `Bearer ${center.adminToken}` } });
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(file)).toBe(true);
    expect(tmpFiles()).toEqual([]);
  });

  it("answers an upload of content the registrant registered hash-only with that registration, keeping no copy", async () => {
    const file = randomBytes(5_000);
    const sha256 = createHash('sha256').update(file).digest('hex');
    const hashOnly = await center.request('POST', '/v1/registrations', { token: center.adminToken, json: { sha256, category: 'agency.digitized' } });
    const before = kept();
    const again = await center.request('POST', '/v1/registrations', { token: center.adminToken, body: form(file, { category: 'agency.digitized' }) });
    expect([again.status, again.body.id, again.body.record.deposit]).toEqual([200, hashOnly.body.id, 'hash-only']);
    expect(kept()).toEqual(before);
    // Another registrant's upload of the same content is a registration with the file, kept.
    const other = center.tokenFor('衢州市城建档案馆', 'registrar');
    const withFile = await center.request('POST', '/v1/registrations', { token: other, body: form(file, { category: 'agency.digitized' }) });
    expect([withFile.status, withFile.body.record.deposit]).toEqual([201, 'file']);
    expect(kept()).toMatchObject({ files: before.files + 1, rows: before.rows + 1, temporary: 0 });
    // Its own upload again: the registration with the file, and still one copy.
    const repeat = await center.request('POST', '/v1/registrations', { token: other, body: form(file, { category: 'agency.digitized' }) });
    expect([repeat.status, repeat.body.id]).toEqual([200, withFile.body.id]);
    expect(kept()).toMatchObject({ files: before.files + 1, rows: before.rows + 1, temporary: 0 });
  });

  it('refuses a file over the configured limit with 413, keeping nothing', async () => {
    const blobsBefore = blobFiles().length;
    const count = center.store.prepare('SELECT count(*) FROM registration').pluck();
    const before = count.get();
    const res = await center.request('POST', '/v1/registrations', { token: center.adminToken, body: form(randomBytes(100_001), { category: 'agency.digitized' }) });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(count.get()).toBe(before);
    expect(blobFiles().length).toBe(blobsBefore);
    expect(tmpFiles()).toEqual([]);
  });

  it('refuses a declared digest that does not match the file with 422 DIGEST_MISMATCH, keeping nothing of the file', async () => {
    const before = kept();
    const file = randomBytes(1000);
    const res = await center.request('POST', '/v1/registrations', {
      token: center.adminToken,
      body: form(file, { category: 'agency.digitized', sha256: createHash('sha256').update('other').digest('hex') }),
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('DIGEST_MISMATCH');
    expect(kept()).toEqual(before);
  });

  it('checks fields sent after the file part before keeping the file', async () => {
    const before = kept();
    const file = randomBytes(2000);
    const fd = new FormData();
    fd.append('category', 'agency.digitized');
    fd.append('file', new Blob([new Uint8Array(file)]), 'a.bin');
    fd.append('sm3', '00'.repeat(32));
    const refused = await center.request('POST', '/v1/registrations', { token: center.adminToken, body: fd });
    expect([refused.status, refused.body.error.code]).toEqual([422, 'DIGEST_MISMATCH']);
    expect(kept()).toEqual(before);

    const ok = new FormData();
    ok.append('file', new Blob([new Uint8Array(file)]), 'a.bin');
    ok.append('category', 'agency.digitized');
    ok.append('sm3', createHash('sm3').update(file).digest('hex'));
    const accepted = await center.request('POST', '/v1/registrations', { token: center.adminToken, body: ok });
    expect(accepted.status).toBe(201);
    expect(accepted.body.record.category).toBe('agency.digitized');
    expect(kept()).toMatchObject({ files: before.files + 1, rows: before.rows + 1, temporary: 0 });
  });

  it('accepts a declared digest that matches', async () => {
    const file = randomBytes(1000);
    const res = await center.request('POST', '/v1/registrations', {
      token: center.adminToken,
      body: form(file, { category: 'agency.digitized', sha256: createHash('sha256').update(file).digest('hex'), size: '1000' }),
    });
    expect(res.status).toBe(201);
  });

  it.each([
    ['no file part', undefined, { category: 'agency.digitized' }, 'INVALID_INPUT'],
    ['an unknown category', randomBytes(10), { category: 'x.y' }, 'UNKNOWN_CATEGORY'],
    ['an unknown field', randomBytes(10), { category: 'agency.digitized', colour: 'red' }, 'INVALID_INPUT'],
    ['metadata that is not JSON', randomBytes(10), { category: 'agency.digitized', metadata: '{' }, 'INVALID_JSON'],
    // Malformed, not mismatched: the same codes as the JSON route.
    ['a SHA-256 that is not a digest', randomBytes(10), { category: 'agency.digitized', sha256: 'zz' }, 'INVALID_DIGEST'],
    ['an SM3 that is not a digest', randomBytes(10), { category: 'agency.digitized', sm3: 'ab'.repeat(31) }, 'INVALID_DIGEST'],
    ['a size that is not a number', randomBytes(10), { category: 'agency.digitized', size: 'abc' }, 'INVALID_INPUT'],
    ['a fraction in metadata', randomBytes(10), { category: 'agency.digitized', metadata: '{"scale":0.5}' }, 'INVALID_INPUT'],
  ] as const)('refuses an upload with %s', async (_what, file, fields, code) => {
    const before = kept();
    const res = await center.request('POST', '/v1/registrations', { token: center.adminToken, body: form(file as Buffer | undefined, { ...fields }) });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(code);
    expect(kept()).toEqual(before);
  });

  it('refuses an upload with a second file, whatever its part is called', async () => {
    const before = kept();
    const fd = new FormData();
    fd.append('category', 'agency.digitized');
    fd.append('file', new Blob([new Uint8Array(randomBytes(100))]), 'a.bin');
    fd.append('file2', new Blob([new Uint8Array(randomBytes(100))]), 'b.bin');
    const res = await center.request('POST', '/v1/registrations', { token: center.adminToken, body: fd });
    expect([res.status, res.body.error.code, res.body.error.message]).toEqual([400, 'INVALID_INPUT', 'send exactly one file, in the part named "file"']);
    expect(kept()).toEqual(before);
  });

  it('refuses a malformed multipart body', async () => {
    const res = await center.request('POST', '/v1/registrations', {
      token: center.adminToken,
      body: 'garbage',
      headers: { 'content-type': 'multipart/form-data' },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_INPUT');
  });
});
