import { createHash } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalize } from '../../src/core/canonical-json.js';
import { hexToBytes } from '../../src/core/hex.js';
import { leafHash, rootFromProof } from '../../src/core/merkle.js';
import { loadConfig } from '../../src/config.js';
import { buildCenter } from '../../src/server.js';
import { Store } from '../../src/store/store.js';
import { runCli } from '../helpers/server-process.js';
import { makeTestCenter, type TestCenter } from '../helpers/test-center.js';

// `archive-seal db copy`: a center moved from its SQLite file to PostgreSQL keeps every record,
// proof and root, and goes on numbering after them. Needs a PostgreSQL server (.ci/run starts one).
const ADMIN_URL = process.env.ARCHIVE_SEAL_TEST_POSTGRES_URL;
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

async function freshDatabase(name: string): Promise<string> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(ADMIN_URL!);
  url.pathname = `/${name}`;
  return url.toString();
}

describe.skipIf(!ADMIN_URL)('db copy from SQLite to PostgreSQL', () => {
  let center: TestCenter;
  let sqliteFile: string;
  let rootBefore: string;
  const suffix = `${process.pid}_${Date.now()}`;

  beforeAll(async () => {
    // A center on SQLite, whatever engine the rest of the tests run on.
    center = await makeTestCenter({ ARCHIVE_SEAL_DATABASE_URL: '' });
    expect(center.store.engine).toBe('sqlite');
    const clerk = center.tokenFor('衢州市民政局', 'depositor');
    const entries = Array.from({ length: 300 }, (_, i) => ({ sha256: sha(`copy-${i}`), category: 'agency.documents', title: `文件 ${i} 𠮷` }));
    expect((await center.request('POST', '/v1/registrations/batch', { token: clerk, json: { entries } })).status).toBe(201);
    expect((await center.request('POST', '/v1/periods/seal', { token: center.adminToken })).status).toBe(201);
    rootBefore = (await center.request('GET', '/v1/periods/1')).body.root;
    expect(rootBefore).toMatch(/^[0-9a-f]{64}$/);
    expect((await center.request('POST', '/v1/registrations', { token: clerk, json: { sha256: sha('open'), category: 'agency.documents' } })).status).toBe(201);
    sqliteFile = join(center.dataDir, 'archive-seal.sqlite');
    await center.close();
  });
  afterAll(async () => {
    await center?.destroy();
  });

  it('copies every row, re-derives every period, and the center runs on PostgreSQL with the same proofs and new ids after the old', async () => {
    const url = await freshDatabase(`copy_ok_${suffix}`);
    const res = await runCli(['db', 'copy', '--from', `sqlite:${sqliteFile}`, '--to', url, '--json']);
    expect(res.code, res.stderr).toBe(0);
    const report = JSON.parse(res.stdout);
    expect(report.problems).toEqual([]);
    expect(report.sealedRoots).toBe(1);
    expect(report.tables).toEqual(expect.arrayContaining([{ table: 'registration', rows: 301 }, { table: 'period', rows: 2 }]));

    const moved = await buildCenter(
      loadConfig({ ARCHIVE_SEAL_DATA_DIR: center.dataDir, ARCHIVE_SEAL_SEAL_SCHEDULE: 'off', ARCHIVE_SEAL_CHAINS: 'none', ARCHIVE_SEAL_DATABASE_URL: url }),
      () => {},
    );
    try {
      expect(moved.store.engine).toBe('postgres');
      const ask = async (method: string, path: string, json?: unknown) => {
        const r = await moved.app.request(path, {
          method,
          headers: { authorization: `Bearer ${center.adminToken}`, 'content-type': 'application/json' },
          ...(json !== undefined && { body: JSON.stringify(json) }),
        });
        return { status: r.status, body: (await r.json()) as any };
      };
      // An old registration's proof folds to the root the period had on SQLite.
      const old = await ask('GET', '/v1/registrations/150');
      expect(old.status).toBe(200);
      expect(old.body.record.title).toBe('文件 149 𠮷');
      const recordDigest = createHash('sha256').update(canonicalize(old.body.record)).digest();
      expect(recordDigest.toString('hex')).toBe(old.body.recordDigest.sha256);
      const leaf = leafHash(hexToBytes(old.body.salt), recordDigest);
      expect(Buffer.from(rootFromProof(leaf, old.body.proof.path)).toString('hex')).toBe(rootBefore);
      // New rows are numbered after the copied ones (the identity sequences were moved on).
      const added = await ask('POST', '/v1/registrations', { sha256: sha('after the move'), category: 'agency.documents' });
      expect(added.status).toBe(201);
      expect(added.body.id).toBe(302);
      expect((await ask('POST', '/v1/periods/seal')).status).toBe(201);
      expect((await ask('GET', '/v1/periods/2')).body).toMatchObject({ status: 'sealed', leafCount: 2 });
    } finally {
      await moved.close();
    }

    // Once a registry holds registrations, a copy into it is refused, and nothing changes.
    const again = await runCli(['db', 'copy', '--from', `sqlite:${sqliteFile}`, '--to', url]);
    expect([again.code, again.stderr]).toEqual([1, expect.stringMatching(/TARGET_NOT_EMPTY/)]);
  });

  it('finds a record changed in the source: exit 1, the period named, and nothing kept', async () => {
    const source = Store.openConnection({ file: sqliteFile });
    source.prepare("UPDATE registration SET record = replace(record, '文件 7 ', '文件 8 ') WHERE id = 8").run();
    source.close();
    const url = await freshDatabase(`copy_bad_${suffix}`);
    const res = await runCli(['db', 'copy', '--from', `sqlite:${sqliteFile}`, '--to', url]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/COPY_CHECK_FAILED: period 1: registration 8: its record, salt and leaf no longer agree; nothing was copied/);
    const target = Store.openConnection({ file: '', url });
    try {
      expect(target.prepare('SELECT count(*) FROM registration').pluck().get()).toBe(0);
    } finally {
      target.close();
    }
  });

  it('refuses what it cannot copy with a usage error', async () => {
    expect((await runCli(['db', 'copy', '--from', sqliteFile, '--to', 'postgres://x@127.0.0.1:1/x'])).code).toBe(2);
    expect((await runCli(['db', 'copy', '--from', `sqlite:${sqliteFile}`, '--to', 'mysql://x'])).code).toBe(2);
    const missing = await runCli(['db', 'copy', '--from', 'sqlite:/nonexistent/archive-seal.sqlite', '--to', 'postgres://x@127.0.0.1:1/x']);
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringMatching(/there is no SQLite database/)]);
  });
});
