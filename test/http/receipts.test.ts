import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyReceipt } from '../../src/core/receipt.js';
import { DEVELOPMENT_CERTS_DIR } from '../../src/pki/dev-pki.js';
import { makeTestCenter, type TestCenter } from '../helpers/test-center.js';

const ROOT_PEM = join(DEVELOPMENT_CERTS_DIR, 'root-ca.pem');
const roots = [readFileSync(ROOT_PEM, 'utf8')];
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
let center: TestCenter;
beforeAll(async () => {
  center = await makeTestCenter();
});
afterAll(() => center.destroy());

describe('signed receipts, given at registration time', () => {
  it('covers a single registration: signature and inclusion of its leaf', async () => {
    const res = await center.request('POST', '/v1/registrations', { token: center.adminToken, json: { sha256: sha('r1'), category: 'voluntary.individual' } });
    expect(res.status).toBe(201);
    const { receipt } = res.body;
    expect(receipt.content).toMatchObject({ format: 'archive-seal/receipt@1', center: 'dev-center', receivedAt: res.body.registeredAt });
    expect(await verifyReceipt(receipt, [res.body.leafHash], roots)).toMatchObject({ status: 'ok' });
    expect(await verifyReceipt(receipt, [sha('someone else')], roots)).toMatchObject({ status: 'failed', code: 'RECEIPT_NOT_INCLUDED' });
    const forged = { ...receipt, content: { ...receipt.content, receivedAt: '2020-01-01T00:00:00.000Z' } };
    expect(await verifyReceipt(forged, [res.body.leafHash], roots)).toMatchObject({ status: 'failed', code: 'RECEIPT_CONTENT_MISMATCH' });
  });

  it('covers a whole batch with one signature; the entries’ leaves rebuild the request root', async () => {
    const entries = Array.from({ length: 37 }, (_, i) => ({ sha256: sha(`rb-${i}`), category: 'agency.documents' }));
    const res = await center.request('POST', '/v1/registrations/batch', { token: center.adminToken, json: { entries } });
    const leaves = res.body.registrations.map((r: any) => r.leafHash);
    expect(await verifyReceipt(res.body.receipt, leaves, roots)).toMatchObject({ status: 'ok' });
    expect(await verifyReceipt(res.body.receipt, leaves.slice(1), roots)).toMatchObject({ code: 'RECEIPT_NOT_INCLUDED' });
  });

  it('shares one signature among concurrent requests without showing one to another', async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => center.request('POST', '/v1/registrations', { token: center.adminToken, json: { sha256: sha(`c-${i}`), category: 'agency.documents' } })),
    );
    for (const a of answers) expect(await verifyReceipt(a.body.receipt, [a.body.leafHash], roots)).toMatchObject({ status: 'ok' });
    const roots_ = new Set(answers.map((a) => a.body.receipt.content.root));
    expect(roots_.size).toBeLessThan(answers.length); // grouped: fewer signatures than requests
  });

  it('checks out with openssl cms -verify alone', () => {
    return center.request('POST', '/v1/registrations', { token: center.adminToken, json: { sha256: sha('ossl'), category: 'agency.documents' } }).then((res) => {
      const content = join(center.dataDir, 'receipt.json');
      const sig = join(center.dataDir, 'receipt.der');
      writeFileSync(content, Buffer.from(res.body.receipt.signedContent, 'base64'));
      writeFileSync(sig, Buffer.from(res.body.receipt.signature, 'base64'));
      expect(() => execFileSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', sig, '-content', content, '-CAfile', ROOT_PEM, '-out', '/dev/null'], { stdio: 'pipe' })).not.toThrow();
    });
  });
});
