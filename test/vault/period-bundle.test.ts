import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalize } from '../../src/core/canonical-json.js';
import { signDetached } from '../../src/pki/cms-signer.js';
import { loadCenterPki } from '../../src/pki/center-pki.js';
import { issuePkiSet } from '../../src/pki/key-management.js';
import fc from 'fast-check';
import { accountName, bundleRevision, canonicalBundleBytes, frameBundle, parseCanonicalBundle, signPeriodBundle, unframeBundle, verifyPeriodBundle, type PeriodBundle } from '../../src/vault/period-bundle.js';
import { makeTestCenter, type TestCenter } from '../helpers/test-center.js';

let center: TestCenter;
let roots: string[];
const sign = () => signPeriodBundle(center.store, 1, { centerId: 'dev-center', masterKey: center.backup.vault.masterKey.key, signer: center.pki.center });

beforeAll(async () => {
  center = await makeTestCenter();
  roots = center.pki.roots.map((r) => r.pem);
  const citizen = center.tokenFor('李四', 'depositor', true);
  for (let i = 0; i < 5; i++) {
    const res = await center.request('POST', '/v1/registrations', {
      token: i === 4 ? citizen : center.adminToken,
      json: { sha256: createHash('sha256').update(`record ${i}`).digest('hex'), category: 'agency.documents', title: `公文 ${i}` },
    });
    expect(res.status).toBe(201);
  }
  expect((await center.request('POST', '/v1/periods/seal', { token: center.adminToken })).status).toBe(201);
});
afterAll(() => center.destroy());

describe('signed period bundles', () => {
  it('verify: signature to the root, every record to its leaf, the leaves to the period\'s root', async () => {
    const signed = sign();
    const { bundle, levels, signer } = await verifyPeriodBundle(unframeBundle(frameBundle(signed)), roots);
    expect(bundle.registrations).toHaveLength(5);
    expect(levels.at(-1)!.toString('hex')).toBe((center.store.prepare('SELECT root FROM period WHERE id = 1').pluck().get() as Buffer).toString('hex'));
    expect(signer).toMatch(/DEVELOPMENT Center/);
    expect(bundle.timestamps).toHaveLength(center.store.prepare('SELECT count(*) FROM period_timestamp WHERE period_id = 1').pluck().get() as number);
  });

  it('refuses, before building it, a period whose bundle would pass the size a peer takes', () => {
    const options = { centerId: 'dev-center', masterKey: center.backup.vault.masterKey.key, signer: center.pki.center };
    // What grows with a period, its registrations, is never underestimated: records' UTF-8 bytes
    // and 400 characters for each one's other members.
    const bundle = JSON.parse(sign().bytes.toString('utf8')) as PeriodBundle;
    const recordBytes = center.store.prepare('SELECT sum(octet_length(record)) FROM registration WHERE period_id = 1').pluck().get() as number;
    expect(bundle.registrations.some((r) => /[^\x00-\x7f]/.test(r.record.title ?? ''))).toBe(true); // UTF-8 longer than its characters
    expect(Buffer.byteLength(canonicalize(bundle.registrations))).toBeLessThanOrEqual(recordBytes + bundle.registrations.length * 400);
    expect(signPeriodBundle(center.store, 1, { ...options, maxBytes: 1_000_000 }).bytes.length).toBeGreaterThan(0);
    expect(() => signPeriodBundle(center.store, 1, { ...options, maxBytes: 1000 })).toThrow(
      expect.objectContaining({ code: 'BUNDLE_TOO_LARGE', message: expect.stringMatching(/^period 1 has 5 registrations, .* cannot be copied to peers/) }),
    );
  });

  it('are the same bytes when built again, and change revision only when timestamps or anchors do', () => {
    const first = sign();
    const second = sign();
    expect(second.bytes.equals(first.bytes)).toBe(true);
    expect(second.sha256).toBe(first.sha256);
    const at = new Date().toISOString();
    center.store.run(
      center.store.db.insertInto('anchor').values({ period_id: 1, chain: 'c', chain_id: 1, contract: '0x' + '00'.repeat(20), status: 'sending', confirmations: 0, attempts: 1, created_at: at, updated_at: at }),
    );
    const anchored = bundleRevision(center.store, 1);
    expect(anchored).not.toBe(first.revision);
    center.store.run(center.store.db.updateTable('anchor').set({ confirmations: 5, attempts: 2 }).where('period_id', '=', 1));
    expect(bundleRevision(center.store, 1)).toBe(anchored);
    expect(sign().sha256).not.toBe(first.sha256);
  });

  it('keep private registrants\' names sealed for the center alone', () => {
    const signed = sign();
    expect(signed.bytes.toString('utf8')).not.toContain('李四');
    const bundle = JSON.parse(signed.bytes.toString('utf8')) as PeriodBundle;
    const account = bundle.accounts.find((a) => a.pseudonymous)!;
    expect(account.name).toBeUndefined();
    expect(accountName(account, center.backup.vault.masterKey.key)).toBe('李四');
    expect(() => accountName(account, Buffer.alloc(32))).toThrow(/does not open/);
    expect(bundle.secrets.pseudonymKey).toEqual(expect.any(String));
  });

  it('are refused when a byte changes, when re-signed after a record changed, or when signed under another root', async () => {
    const signed = sign();
    const altered = Buffer.from(signed.bytes.toString('utf8').replace('公文 2', '公文 3'), 'utf8');
    await expect(verifyPeriodBundle({ bytes: altered, signature: signed.signature }, roots)).rejects.toThrow(/signature does not verify: CMS_DIGEST_MISMATCH/);

    const resigned = Buffer.from(canonicalize(JSON.parse(altered.toString('utf8'))), 'utf8');
    await expect(verifyPeriodBundle({ bytes: resigned, signature: Buffer.from(signDetached(resigned, center.pki.center)) }, roots)).rejects.toThrow(/the leaves give root/);

    const other = issuePkiSet({ root: { commonName: 'Other Root' }, center: { commonName: 'Other Center' }, tsa: { commonName: 'Other TSA' } });
    const otherPki = loadCenterPki({ rootPem: other.rootCertPem, centerCertPem: other.centerCertPem, centerKeyPem: other.centerKeyPem, tsaCertPem: other.tsaCertPem, tsaKeyPem: other.tsaKeyPem });
    await expect(verifyPeriodBundle({ bytes: signed.bytes, signature: Buffer.from(signDetached(signed.bytes, otherPki.center)) }, roots)).rejects.toThrow(/CMS_UNTRUSTED_SIGNER/);
  });
});

describe('bundle bytes, a registration at a time', () => {
  // Strings that look like the structure the reader splits on.
  const tricky = fc.string({ unit: fc.constantFrom('"', '\\', ',', '[', ']', '{', '}', ':', 'a', '档', '😀', '\n', 'registrations', '"registrations":['), maxLength: 12 });
  const registration = fc.record({
    id: fc.nat(),
    leafIndex: fc.nat(),
    registrantId: fc.nat(),
    sha256: fc.constant('ab'.repeat(32)),
    sm3: fc.option(fc.constant('cd'.repeat(32)), { nil: null }),
    size: fc.option(fc.nat(), { nil: null }),
    hasFile: fc.boolean(),
    record: fc.record({ title: tricky, metadata: fc.dictionary(tricky, fc.oneof(tricky, fc.integer(), fc.array(tricky, { maxLength: 3 }))) }),
    salt: fc.constant('00'.repeat(32)),
    registeredAt: fc.constant('2026-11-25T00:00:00.000Z'),
  });
  const bundleLike = fc.record({
    format: fc.constant('archive-seal/period-bundle@1'),
    center: tricky,
    accounts: fc.array(fc.record({ id: fc.nat(), name: tricky }), { maxLength: 3 }),
    registrations: fc.array(registration, { maxLength: 8 }),
    period: fc.record({ id: fc.nat(), note: tricky }),
    timestamps: fc.array(fc.record({ token: tricky }), { maxLength: 2 }),
  });

  it('are canonicalize(bundle) byte for byte, and read back to the same bundle (property)', () => {
    fc.assert(
      fc.property(bundleLike, (b) => {
        const bundle = b as unknown as PeriodBundle;
        const bytes = canonicalBundleBytes(bundle);
        const whole = canonicalize(bundle);
        expect(bytes.equals(Buffer.from(whole, 'utf8'))).toBe(true);
        // Written in chunks of a few characters: every chunk boundary of a large bundle.
        expect(canonicalBundleBytes(bundle, 7).equals(bytes)).toBe(true);
        expect(parseCanonicalBundle(bytes)).toEqual(JSON.parse(whole));
      }),
      { numRuns: 500 },
    );
  });

  it('refuses bytes that are not the canonical form, or not JSON', () => {
    const bytes = sign().bytes;
    const text = bytes.toString('utf8');
    const variants = [
      text.replace('"registrations":[{', '"registrations":[ {'), // a space inside the list
      text.replace('"registrations":[', '"registrations":[{"leafIndex":0,"id":1},'), // a registration's members out of canonical order
      text.replace(/\}\],"secrets"/, '},],"secrets"'), // a trailing comma
      text.replace('"center":', '"center" :'), // a space outside the list
      text.slice(0, text.indexOf('"registrations":[') + 30), // cut inside the list
      '{"format":"archive-seal/period-bundle@1"}', // no list
      '{"a":{"registrations":[]},"registrations":[{"id":1}]}', // the list found first is not the bundle's
      '{"registrations":[{"id":1}}', // the list closed by a brace
      '{"registrations":[],}', // what is around the list is not JSON
    ];
    for (const variant of variants) {
      expect(variant).not.toBe(text);
      expect(() => parseCanonicalBundle(Buffer.from(variant, 'utf8'))).toThrow(expect.objectContaining({ code: 'BUNDLE_INVALID' }));
    }
    expect(parseCanonicalBundle(bytes)).toEqual(JSON.parse(text));
  });
});
