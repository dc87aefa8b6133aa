import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalize } from '../../src/core/canonical-json.js';
import { hexToBytes } from '../../src/core/hex.js';
import { leafHash, rootFromProof, verifyInclusionRfc9162 } from '../../src/core/merkle.js';
import { api, runCli, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// End to end against a real server process on a random port, driven over HTTP and by the CLI.
const dir = makeTempDir();
let server: ServerProcess;
let env: Record<string, string>;

beforeAll(async () => {
  server = await startServerProcess(join(dir.path, 'data'));
  env = { ARCHIVE_SEAL_SERVER: server.url, ARCHIVE_SEAL_TOKEN: server.adminToken };
});
afterAll(async () => {
  await server?.stop();
  dir.remove();
});

describe('register → seal → proof → published root', () => {
  it('registers files with the CLI, seals, and every proof folds to the root published for the period', async () => {
    const files = join(dir.path, 'transfer');
    mkdirSync(join(files, 'sub'), { recursive: true });
    const contents = new Map<string, Buffer>();
    for (const name of ['a.pdf', 'b.tif', 'sub/c.xml', 'sub/婚姻登记表.pdf']) {
      const data = randomBytes(1000 + contents.size * 777);
      writeFileSync(join(files, name), data);
      contents.set(name, data);
    }
    const uploaded = await runCli(['register', files, '--category', 'livelihood.marriage', '--title', '婚姻登记档案'], env);
    expect(uploaded.code).toBe(0);
    const lines = uploaded.stdout.trim().split('\n');
    expect(lines).toHaveLength(4);

    const hashOnly = join(dir.path, 'citizen.jpg');
    writeFileSync(hashOnly, randomBytes(5000));
    const registeredHashOnly = await runCli(['register', hashOnly, '--hash-only', '--category', 'voluntary.individual', '--json'], env);
    expect(registeredHashOnly.code).toBe(0);
    const [hashOnlyLine] = JSON.parse(registeredHashOnly.stdout);

    const sealed = await runCli(['seal'], env);
    expect(sealed.code).toBe(0);
    expect(sealed.stdout).toMatch(/^period 1 sealed: 5 registrations, root sha256:[0-9a-f]{64}$/m);

    // The root as anyone can read it, without a token.
    const period = await api(server.url, undefined, 'GET', '/v1/periods/1');
    expect(period.status).toBe(200);
    expect(period.body).toMatchObject({ status: 'sealed', leafCount: 5 });

    const ids = [...lines.map((l) => Number(l.split('\t')[0])), hashOnlyLine.id];
    for (const id of ids) {
      const { status, body: r } = await api(server.url, server.adminToken, 'GET', `/v1/registrations/${id}`);
      expect(status).toBe(200);
      expect(r.status).toBe('sealed');
      expect(r.root).toBe(period.body.root);
      const recordDigest = createHash('sha256').update(canonicalize(r.record)).digest();
      expect(recordDigest.toString('hex')).toBe(r.recordDigest.sha256);
      const leaf = leafHash(hexToBytes(r.salt), recordDigest);
      expect(Buffer.from(rootFromProof(leaf, r.proof.path)).toString('hex')).toBe(period.body.root);
      expect(verifyInclusionRfc9162(leaf, r.proof, hexToBytes(period.body.root))).toBe(true);
      if (r.record.deposit === 'file') {
        const name = Object.keys(Object.fromEntries(contents)).find((n) => n.endsWith(r.record.fileName))!;
        expect(r.digests.sha256).toBe(createHash('sha256').update(contents.get(name)!).digest('hex'));
        expect(r.digests.sm3).toBe(createHash('sm3').update(contents.get(name)!).digest('hex'));
      }
    }

    const status = await runCli(['status', String(ids[0])], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`root           ${period.body.root}`);
  });

  it('registers many hash-only entries through the batch route and proves the last', async () => {
    const entries = Array.from({ length: 2500 }, (_, i) => ({ sha256: createHash('sha256').update(`bulk-${i}`).digest('hex'), category: 'agency.catalogue' }));
    const res = await api(server.url, server.adminToken, 'POST', '/v1/registrations/batch', { entries });
    expect(res.status).toBe(201);
    expect(res.body.registrations.every((r: any) => r.periodId === 2)).toBe(true);
    const seal = await api(server.url, server.adminToken, 'POST', '/v1/periods/seal');
    expect(seal.status).toBe(201);
    expect(seal.body).toMatchObject({ id: 2, leafCount: 2500, previousRoot: (await api(server.url, undefined, 'GET', '/v1/periods/1')).body.root });
    const last = await api(server.url, server.adminToken, 'GET', `/v1/registrations/${res.body.registrations[2499].id}`);
    const leaf = hexToBytes(last.body.leafHash);
    expect(verifyInclusionRfc9162(leaf, last.body.proof, hexToBytes(seal.body.root))).toBe(true);
  });
});

describe('the CLI says what went wrong, with its exit status', () => {
  it('exits 2 on usage errors', async () => {
    expect((await runCli(['register', 'x'], env)).code).toBe(2); // no --category
    expect((await runCli(['register', join(dir.path, 'missing'), '--category', 'voluntary.individual'], env)).code).toBe(2);
    expect((await runCli(['register', dir.path, '--category', 'no.such'], env)).code).toBe(2);
    expect((await runCli(['status', 'abc'], env)).code).toBe(2);
    expect((await runCli(['frobnicate'], env)).code).toBe(2);
    expect((await runCli(['seal', '--bogus'], env)).code).toBe(2);
    const noToken = await runCli(['seal'], { ARCHIVE_SEAL_SERVER: server.url, ARCHIVE_SEAL_TOKEN: '' });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('token');
  });

  it('exits 1 on failures, with the server error in one line', async () => {
    const empty = await runCli(['seal'], env);
    expect(empty.code).toBe(1);
    expect(empty.stderr.trim()).toBe('archive-seal seal: NOTHING_TO_SEAL: the open period has no registrations to seal');
    const missing = await runCli(['status', '987654'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('NOT_FOUND');
    const badToken = await runCli(['status', '1'], { ...env, ARCHIVE_SEAL_TOKEN: 'as_' + 'x'.repeat(43) });
    expect(badToken.code).toBe(1);
    expect(badToken.stderr).toContain('INVALID_TOKEN');
    const down = await runCli(['status', '1'], { ...env, ARCHIVE_SEAL_SERVER: 'http://127.0.0.1:9' });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('cannot reach');
  });
});
