import { createHash, createPublicKey } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { RegistrationReader } from '../../src/registry/registration-reader.js';
import { RegistrationService } from '../../src/registry/registration-service.js';
import { makeTestCenter, type TestCenter } from '../helpers/test-center.js';
import { TEST_ENGINE } from '../helpers/test-database.js';

// The writer thread's failures reach the caller: nothing hangs, nothing is half-written.
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const admin = { accountId: 1, name: 'admin', role: 'admin' as const, pseudonymous: false };
const request = (tag: string) => ({ sha256: sha(tag), category: 'agency.documents', hasFile: false });
let center: TestCenter;
beforeEach(async () => {
  center = await makeTestCenter();
});
afterEach(() => center.destroy());
const rows = () => center.store.prepare('SELECT count(*) FROM registration').pluck().get() as number;
/** Makes every insert into registration fail ('disk says no') until `allowInserts`. */
function refuseInserts(): void {
  if (TEST_ENGINE === 'postgres') {
    center.store.prepare("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk says no'; END $$").run();
    center.store.prepare('CREATE TRIGGER refuse BEFORE INSERT ON registration FOR EACH STATEMENT EXECUTE FUNCTION refuse()').run();
  } else {
    center.store.sqlite.exec("CREATE TRIGGER refuse BEFORE INSERT ON registration BEGIN SELECT RAISE(ABORT, 'disk says no'); END");
  }
}
function allowInserts(): void {
  if (TEST_ENGINE === 'postgres') center.store.prepare('DROP TRIGGER refuse ON registration').run();
  else center.store.sqlite.exec('DROP TRIGGER refuse');
}

it('answers 500 when a group cannot be committed, writes nothing, and goes on once it can', async () => {
  refuseInserts();
  const refused = await center.request('POST', '/v1/registrations', { token: center.adminToken, json: { sha256: sha('a'), category: 'agency.documents' } });
  expect([refused.status, refused.body.error.code]).toEqual([500, 'INTERNAL']);
  expect(center.logs.join('\n')).toMatch(/registration not committed: disk says no/);
  expect(rows()).toBe(0);
  allowInserts();
  expect((await center.request('POST', '/v1/registrations', { token: center.adminToken, json: { sha256: sha('a'), category: 'agency.documents' } })).status).toBe(201);
});

it("fails only the job the writer cannot take, not the others that shared its group's transaction", async () => {
  // An unpaired surrogate cannot be canonicalized: the record throws inside the transaction.
  // (The HTTP routes refuse it before; here the service is called directly.) The 40 requests
  // arrive while the writer is busy with the first, so most of them share one group.
  const jobs = Array.from({ length: 40 }, (_, i) =>
    center.registrations.register(admin, [{ ...request(`g-${i}`), ...(i % 10 === 3 && { title: `bad \ud800 ${i}` }) }]),
  );
  const settled = await Promise.allSettled(jobs);
  const failed = settled.flatMap((r, i) => (r.status === 'rejected' ? [i] : []));
  expect(failed).toEqual([3, 13, 23, 33]);
  for (const i of failed) expect((settled[i] as PromiseRejectedResult).reason.message).toMatch(/^registration not committed: /);
  expect(rows()).toBe(36);
});

it('says so when a group was committed but its receipt could not be signed', async () => {
  const id = center.pki.center;
  // A public key cannot sign: the group commits, then the receipt fails.
  const broken = await RegistrationService.start({
    store: center.store,
    reader: new RegistrationReader(center.store),
    writer: {
      file: join(center.dataDir, 'archive-seal.sqlite'),
      ...(TEST_ENGINE === 'postgres' && { url: center.databaseUrl! }),
      synchronous: 'FULL',
      centerId: 'dev-center',
      pseudonymKey: Buffer.alloc(32),
      receiptSigner: { certificateDer: id.certificateDer, chainDer: id.chainDer, privateKey: createPublicKey(id.privateKey) },
    },
  });
  try {
    await expect(broken.register(admin, [request('b')])).rejects.toThrow(/committed, but not answered/);
    expect(rows()).toBe(1);
    // The registration is durable: asked again, the working service shows it as the existing one.
    const again = await center.registrations.register(admin, [request('b')]);
    expect(again.outcomes[0]!.created).toBe(false);
  } finally {
    await broken.close();
  }
});

it('fails every waiting and later request once the writer thread is gone, instead of hanging', async () => {
  const service = center.registrations as unknown as { worker: { terminate(): Promise<number> } };
  // Waiting when the thread goes: 10,000 rows take the writer longer than terminate() does.
  const waiting = center.registrations.registerBatch(admin, Array.from({ length: 10_000 }, (_, i) => request(`w-${i}`)));
  await service.worker.terminate();
  await expect(waiting).rejects.toThrow(/writer thread exited/);
  await expect(center.registrations.register(admin, [request('c')])).rejects.toThrow(/writer thread exited/);
  await expect(center.registrations.registerBatch(admin, [request('d')])).rejects.toThrow(/writer thread exited/);
});

it('fails every waiting and later request if the writer ever answered out of order, instead of mixing answers up', async () => {
  const service = center.registrations as unknown as { onReply(reply: { seqs: number[]; results: unknown[] }): void };
  const waiting = center.registrations.registerBatch(admin, Array.from({ length: 10_000 }, (_, i) => request(`o-${i}`)));
  service.onReply({ seqs: [999_999], results: [{}] }); // an answer for a job that is not first in line
  await expect(waiting).rejects.toThrow(/the writer answered job 999999 out of order/);
  await expect(center.registrations.register(admin, [request('e')])).rejects.toThrow(/out of order/);
});

it('takes what arrived meanwhile as one group, but never more than 10,000 rows in one transaction', async () => {
  const batch = (tag: string, n: number) => Array.from({ length: n }, (_, i) => request(`${tag}-${i}`));
  // The first 10,000 keep the writer busy while the next three arrive.
  const results = await Promise.all([
    center.registrations.registerBatch(admin, batch('z', 10_000)),
    center.registrations.registerBatch(admin, batch('a', 6_000)),
    center.registrations.registerBatch(admin, batch('b', 3_000)),
    center.registrations.registerBatch(admin, batch('c', 6_000)),
  ]);
  expect(rows()).toBe(25_000);
  const rowsPerSignature = new Map<string, number>();
  for (const r of results) rowsPerSignature.set(r.receipt.signature, (rowsPerSignature.get(r.receipt.signature) ?? 0) + r.outcomes.length);
  expect(Math.max(...rowsPerSignature.values())).toBeLessThanOrEqual(10_000);
  // Two of the three that waited went together (a + b or b + c: a + c would be 12,000 rows).
  expect(rowsPerSignature.size).toBe(3);
  expect(results[0]!.receipt.content.requests).toBe(1);
});

// SQLite's write-ahead log: nothing of the kind on PostgreSQL.
it.skipIf(TEST_ENGINE === 'postgres')('leaves a batch in the write-ahead log for a later checkpoint, and checkpoints at the next single registration', async () => {
  const database = join(center.dataDir, 'archive-seal.sqlite');
  const before = statSync(database).size;
  // 10,000 rows are more than 1,000 WAL pages: at SQLite's default their commit would checkpoint.
  await center.registrations.registerBatch(admin, Array.from({ length: 10_000 }, (_, i) => request(`k-${i}`)));
  expect(statSync(database).size).toBe(before);
  expect(statSync(`${database}-wal`).size).toBeGreaterThan(4 * 1024 * 1024);
  // A single registration commits under the small threshold again, and its commit checkpoints.
  await center.registrations.register(admin, [request('k-single')]);
  expect(statSync(database).size).toBeGreaterThan(before + 4 * 1024 * 1024);
});
