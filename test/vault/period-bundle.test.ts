import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalize } from '../../src/core/canonical-json.js';
import { signDetached } from '../../src/pki/cms-signer.js';
import { loadCenterPki } from '../../src/pki/center-pki.js';
import { issuePkiSet } from '../../src/pki/key-management.js';
import { accountName, bundleRevision, frameBundle, signPeriodBundle, unframeBundle, verifyPeriodBundle, type PeriodBundle } from '../../src/vault/period-bundle.js';
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
    expect(levels.at(-1)!.toString('hex')).toBe(center.store.prepare('SELECT hex(root) FROM period WHERE id = 1').pluck().get()!.toString().toLowerCase());
    expect(signer).toMatch(/DEVELOPMENT Center/);
    expect(bundle.timestamps).toHaveLength(center.store.prepare('SELECT count(*) FROM period_timestamp WHERE period_id = 1').pluck().get() as number);
  });

  it('refuses, before building it, a period whose bundle would pass the size one string can hold', () => {
    const options = { centerId: 'dev-center', masterKey: center.backup.vault.masterKey.key, signer: center.pki.center };
    // What grows with a period, its registrations, is never underestimated: records' UTF-8 bytes
    // and 400 characters for each one's other members.
    const bundle = JSON.parse(sign().bytes.toString('utf8')) as PeriodBundle;
    const recordBytes = center.store.prepare('SELECT sum(length(CAST(record AS BLOB))) FROM registration WHERE period_id = 1').pluck().get() as number;
    expect(canonicalize(bundle.registrations).length).toBeLessThanOrEqual(recordBytes + bundle.registrations.length * 400);
    expect(signPeriodBundle(center.store, 1, { ...options, maxChars: 1_000_000 }).bytes.length).toBeGreaterThan(0);
    expect(() => signPeriodBundle(center.store, 1, { ...options, maxChars: 1000 })).toThrow(
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
