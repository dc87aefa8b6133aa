import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestCenter, type TestCenter } from '../helpers/test-center.js';

// One text rule for every field a user sends (issue 17, item 8): titles and file names took C1
// controls and bidi overrides (U+202E spoofs a file name on the PDF), metadata took NUL and BEL in
// keys and values. Each field, on each route that takes it: 400 INVALID_TEXT naming the field.
let center: TestCenter;
let token: string;
beforeAll(async () => {
  center = await makeTestCenter();
  token = center.tokenFor('衢州市民政局', 'depositor');
});
afterAll(() => center.destroy());

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const countRegistrations = () => center.store.prepare('SELECT count(*) FROM registration').pluck().get() as number;
const BAD = { NUL: '\u0000', BEL: '\u0007', DEL: '\u007f', 'U+0085': '\u0085', 'U+009F': '\u009f', 'U+202E': '\u202e', 'U+2067': '\u2067', 'U+FFFF': '\uffff' };

type Fields = { title?: string; fileName?: string; category?: string; metadata?: Record<string, unknown> };
const FIELDS: [string, (c: string) => Fields, RegExp][] = [
  ['title', (c) => ({ title: `婚姻登记${c}表` }), /^title contains U\+/],
  ['fileName', (c) => ({ fileName: `report${c}fdp.exe` }), /^fileName contains U\+/],
  ['a metadata value', (c) => ({ metadata: { 档号: `J001${c}` } }), /^metadata\.档号 contains U\+/],
  ['a nested metadata value', (c) => ({ metadata: { 卷: { 件: [`ok`, `J${c}`] } } }), /^metadata\.卷\.件\[1\] contains U\+/],
  ['a metadata key', (c) => ({ metadata: { [`档${c}号`]: 'J001' } }), /^a key in metadata contains U\+/],
  ['a nested metadata key', (c) => ({ metadata: { 卷: { [`a${c}`]: 1 } } }), /^a key in metadata\.卷 contains U\+/],
  ['the category', (c) => ({ category: `agency.documents${c}` }), /^category contains U\+/],
];

async function registerAll(fields: Fields, tag: string) {
  const entry = { sha256: sha(tag), category: 'agency.documents', ...fields };
  const single = await center.request('POST', '/v1/registrations', { token, json: entry });
  const batch = await center.request('POST', '/v1/registrations/batch', { token, json: { entries: [{ sha256: sha(`${tag} ok`), category: 'agency.documents' }, entry] } });
  const fd = new FormData();
  fd.append('category', fields.category ?? 'agency.documents');
  if (fields.title !== undefined) fd.append('title', fields.title);
  if (fields.metadata !== undefined) fd.append('metadata', JSON.stringify(fields.metadata));
  // The file name as the part's filename (what a browser or the CLI sends).
  fd.append('file', new Blob([new Uint8Array(randomBytes(64))]), fields.fileName ?? '公文.pdf');
  const upload = await center.request('POST', '/v1/registrations', { token, body: fd });
  return { single, batch, upload };
}

describe('text fields of a registration', () => {
  for (const [field, make, message] of FIELDS) {
    it.each(Object.entries(BAD))(`refuses %s in ${field} on the single, batch and upload routes`, async (name, c) => {
      const before = countRegistrations();
      const { single, batch, upload } = await registerAll(make(c), `${field} ${name}`);
      expect([single.status, single.body.error?.code]).toEqual([400, 'INVALID_TEXT']);
      expect(single.body.error.message).toMatch(message);
      expect(single.body.error.message).toContain(name.startsWith('U+') ? name : '');
      expect([batch.status, batch.body.error?.code]).toEqual([400, 'INVALID_TEXT']);
      expect(batch.body.error.message.startsWith('entries[1].') || field.includes('key')).toBe(true);
      // A raw C0 control or DEL cannot stand in a part's header at all: the multipart parser refuses
      // it first (the encoded form, filename*=UTF-8''%00, reaches the rule: below).
      const rawInHeader = field === 'fileName' && /[\u0000-\u001f\u007f]/.test(c);
      expect([upload.status, upload.body.error?.code], upload.body.error?.message).toEqual([400, rawInHeader ? 'INVALID_INPUT' : 'INVALID_TEXT']);
      expect(countRegistrations()).toBe(before);
    });
  }

  it.each(['%00', '%07', '%7F', '%C2%85', '%E2%80%AE'])('refuses an upload whose file name, RFC 5987-encoded, holds %s', async (encoded) => {
    const boundary = 'b0undary';
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="category"\r\n\r\nagency.documents\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename*=UTF-8''report${encoded}fdp.exe\r\nContent-Type: application/octet-stream\r\n\r\n`),
      randomBytes(64),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const res = await center.request('POST', '/v1/registrations', { token, body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } });
    expect([res.status, res.body.error?.code]).toEqual([400, 'INVALID_TEXT']);
    expect(res.body.error.message).toMatch(/^fileName contains U\+/);
  });

  it('takes TAB and LF in metadata values (long text), but not in titles, file names or keys', async () => {
    const ok = await center.request('POST', '/v1/registrations', { token, json: { sha256: sha('multiline'), category: 'agency.documents', metadata: { 附注: '第一行\n第二行\t完' } } });
    expect(ok.status).toBe(201);
    expect(ok.body.record.metadata).toEqual({ 附注: '第一行\n第二行\t完' });
    for (const fields of [{ title: 'a\nb' }, { fileName: 'a\tb.pdf' }, { metadata: { 'a\nb': 'x' } }]) {
      const res = await center.request('POST', '/v1/registrations', { token, json: { sha256: sha('multiline refused'), category: 'agency.documents', ...fields } });
      expect([res.status, res.body.error.code]).toEqual([400, 'INVALID_TEXT']);
    }
  });

  it('takes the names and text real records carry', async () => {
    const res = await center.request('POST', '/v1/registrations', {
      token,
      json: { sha256: sha('real text'), category: 'agency.documents', title: '𠮷野家 迁移登记册(2024)', fileName: "x(1) 'a'*.txt", metadata: { 全宗号: 'J001', 说明: '👩‍👩‍👧 مرحبا' } },
    });
    expect(res.status).toBe(201);
  });
});

describe('account names', () => {
  it.each(Object.entries(BAD))('POST /v1/tokens refuses %s in a name', async (_, c) => {
    const res = await center.request('POST', '/v1/tokens', { token: center.adminToken, json: { name: `王${c}芳`, role: 'depositor' } });
    expect([res.status, res.body.error.code]).toEqual([400, 'INVALID_TEXT']);
    expect(res.body.error.message).toMatch(/^name contains U\+/);
  });
});
