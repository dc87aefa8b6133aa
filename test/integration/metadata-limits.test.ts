import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { signDetached } from '../../src/pki/cms-signer.js';
import { MAX_METADATA_DEPTH } from '../../src/core/record-limits.js';
import { journalKey, signJournal, signPeriodBundle, verifyJournal, verifyPeriodBundle } from '../../src/vault/period-bundle.js';
import { startExternalChain, waitFor, type ExternalChain } from '../helpers/external-chain.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { makeTestCenter, type TestCenter } from '../helpers/test-center.js';

// Every record the center accepts must be one it can canonicalize, certify, replicate and recover
// (issue 17, item 1): metadata nested 61-63 levels was accepted (201), then its certificate
// answered 500 forever and its period's bundle and journal segments could not be built; 64
// levels answered 500, 2,000 overflowed the stack. One depth limit, checked on intake on every
// route, 400 METADATA_TOO_DEEP above it.
const dir = makeTempDir();
let chain: ExternalChain;
let center: TestCenter;
beforeAll(async () => {
  chain = await startExternalChain(dir.path, { confirmations: 1 });
  center = await makeTestCenter({ ARCHIVE_SEAL_CHAINS: chain.chainsFile });
});
afterAll(async () => {
  await center?.destroy();
  await chain?.stop();
  dir.remove();
});

/** Metadata `levels` objects deep: { "档号": { "档号": … "J001" } }, built as text (JSON.stringify itself overflows at 10,000s). */
const nestedText = (levels: number) => '{"档号":'.repeat(levels) + '"J001-2026-0001"' + '}'.repeat(levels);
const nested = (levels: number) => JSON.parse(nestedText(levels)) as Record<string, unknown>;
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const countRegistrations = () => center.store.prepare('SELECT count(*) FROM registration').pluck().get() as number;

const viaSingle = (metadataText: string, tag: string) =>
  center.request('POST', '/v1/registrations', {
    token: center.adminToken,
    json: `{"sha256":"${sha(tag)}","category":"agency.documents","metadata":${metadataText}}`,
  });
const viaBatch = (metadataText: string, tag: string) =>
  center.request('POST', '/v1/registrations/batch', {
    token: center.adminToken,
    json: `{"entries":[{"sha256":"${sha(`${tag} ok`)}","category":"agency.documents"},{"sha256":"${sha(tag)}","category":"agency.documents","metadata":${metadataText}}]}`,
  });
const viaUpload = (metadataText: string) => {
  const fd = new FormData();
  fd.append('category', 'agency.documents');
  fd.append('metadata', metadataText);
  fd.append('file', new Blob([new Uint8Array(randomBytes(100))]), '公文.pdf');
  return center.request('POST', '/v1/registrations', { token: center.adminToken, body: fd });
};

describe('metadata nesting', () => {
  it.each([MAX_METADATA_DEPTH + 1, 61, 63, 64, 65, 2_000, 50_000])('refuses %i levels on the single, batch and upload routes: 400 METADATA_TOO_DEEP, nothing stored', async (levels) => {
    const before = countRegistrations();
    for (const res of [await viaSingle(nestedText(levels), `deep ${levels}`), await viaBatch(nestedText(levels), `deep ${levels}`)]) {
      expect([res.status, res.body.error?.code]).toEqual([400, 'METADATA_TOO_DEEP']);
      expect(res.body.error.message).toMatch(new RegExp(`metadata must nest at most ${MAX_METADATA_DEPTH} levels`));
    }
    // An upload's metadata part has its own size limit, which 50,000 levels pass first.
    const upload = await viaUpload(nestedText(levels));
    expect([upload.status, upload.body.error?.code]).toEqual([400, Buffer.byteLength(nestedText(levels)) > 64 * 1024 ? 'INVALID_INPUT' : 'METADATA_TOO_DEEP']);
    // Arrays count as levels too.
    const arrays = await viaSingle(`{"a":${'['.repeat(levels)}${']'.repeat(levels)}}`, `arrays ${levels}`);
    expect([arrays.status, arrays.body.error?.code]).toEqual([400, 'METADATA_TOO_DEEP']);
    expect(countRegistrations()).toBe(before);
    expect(center.logs.filter((l) => l.includes('internal error'))).toEqual([]);
  });

  it(`takes ${MAX_METADATA_DEPTH} levels on every route, and such records are journaled, sealed, bundled and certified`, async () => {
    const single = await viaSingle(nestedText(MAX_METADATA_DEPTH), 'deepest single');
    const batch = await viaBatch(nestedText(MAX_METADATA_DEPTH), 'deepest batch');
    const upload = await viaUpload(nestedText(MAX_METADATA_DEPTH));
    expect([single.status, batch.status, upload.status]).toEqual([201, 201, 201]);
    expect(single.body.record.metadata).toEqual(nested(MAX_METADATA_DEPTH));
    // A center before this limit took metadata up to 63 levels (64 failed): its records are still
    // carried by every document below (the canonicalizer's own limit is far above intake's).
    const principal = { accountId: 1, name: 'admin', role: 'admin' as const, pseudonymous: false };
    const legacy = JSON.parse(
      (await center.registrations.registerAsJson(principal, { sha256: sha('legacy 63'), category: 'agency.documents', metadata: nested(63), hasFile: false })).json,
    );
    const ids: number[] = [single.body.id, batch.body.registrations[1].id, upload.body.id, legacy.id];

    // The open period's journal segment (what a peer holds until the seal) builds and verifies.
    const roots = center.pki.roots.map((r) => r.pem);
    const options = { centerId: 'dev-center', masterKey: center.backup.vault.masterKey.key, signer: center.pki.center };
    const key = journalKey(single.body.periodId, Math.min(...ids), Math.max(...ids));
    const segment = signJournal(center.store, key, options)!;
    expect((await verifyJournal(segment, key, roots)).registrations.map((r) => r.id)).toEqual(expect.arrayContaining(ids));

    const sealed = await center.request('POST', '/v1/periods/seal', { token: center.adminToken });
    expect(sealed.status).toBe(201);
    const periodId = sealed.body.id as number;
    const bundle = await verifyPeriodBundle(signPeriodBundle(center.store, periodId, options), roots);
    expect(bundle.bundle.registrations.map((r) => r.id)).toEqual(expect.arrayContaining(ids));

    await waitFor('anchored', async () => ((await center.request('GET', `/v1/periods/${periodId}`)).body.anchored ? true : undefined));
    for (const id of ids) {
      const certificate = await center.request('GET', `/v1/registrations/${id}/certificate`, { token: center.adminToken });
      expect(certificate.status).toBe(200);
      expect(certificate.body.content.record.metadata).toEqual(nested(id === legacy.id ? 63 : MAX_METADATA_DEPTH));
      // And the center's own verifier takes it (the record is canonicalized again there).
      const verified = await center.request('POST', '/v1/verify', { json: { certificate: certificate.body, digests: { sha256: certificate.body.content.record.digests.sha256 } } });
      expect(verified.status).toBe(200);
      expect(verified.body.steps.find((s: { step: string }) => s.step === 'record-digest').status).toBe('ok');
    }
  });
});

describe('other JSON the center reads', () => {
  it('POST /v1/verify: a certificate nested 50,000 levels deep is NOT AUTHENTIC or CANNOT BE DETERMINED, never a 500', async () => {
    const certificate = await center.request('GET', '/v1/registrations/1/certificate', { token: center.adminToken });
    const good = JSON.stringify(certificate.body);
    const sha256 = certificate.body.content.record.digests.sha256;
    const bodies = [
      // Deep metadata inside an otherwise whole certificate (the signature no longer covers it).
      good.replace('"metadata":{', `"metadata":{"deep":${nestedText(50_000)},`),
      // Deep where the format is read.
      `{"format":${nestedText(50_000)}}`,
      `{"format":"archive-seal/certificate@1","content":${nestedText(50_000)}}`,
      `${'['.repeat(50_000)}${']'.repeat(50_000)}`,
    ];
    for (const certificateText of bodies) {
      const res = await center.request('POST', '/v1/verify', { json: `{"certificate":${certificateText},"digests":{"sha256":"${sha256}"}}` });
      expect(res.status).toBeLessThan(500);
      if (res.status === 200) expect(res.body.verdict).not.toBe('AUTHENTIC');
    }
    expect(center.logs.filter((l) => l.includes('internal error'))).toEqual([]);
  });

  it('a peer\'s bundle nested too deep to canonicalize is BUNDLE_INVALID, not a CanonicalJsonError', async () => {
    const bytes = Buffer.from(`{"format":"archive-seal/bundle@1","registrations":[${nestedText(2_000)}]}`, 'utf8');
    const signed = { bytes, signature: Buffer.from(signDetached(bytes, center.pki.center)) };
    await expect(verifyPeriodBundle(signed, center.pki.roots.map((r) => r.pem))).rejects.toMatchObject({ code: 'BUNDLE_INVALID', message: expect.stringMatching(/not in canonical form/) });
  });

  it('a chains.json nested 50,000 levels deep is a configuration error naming the file', () => {
    const file = join(dir.path, 'deep-chains.json');
    writeFileSync(file, `[{"name":${nestedText(50_000)}}]`);
    expect(() => loadConfig({ ARCHIVE_SEAL_DATA_DIR: join(dir.path, 'unused'), ARCHIVE_SEAL_CHAINS: file })).toThrow(ConfigError);
  });
});
