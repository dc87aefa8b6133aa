import { hash } from 'node:crypto';
import type { PeriodRow, RegistrationRow } from '../store/database.js';
import { findPeriod } from '../store/periods-repository.js';
import type { Store } from '../store/store.js';
import { buildTreeLevels, HASH_BYTES, merkleRoot, saltedLeaf } from './tree-builder.js';

/**
 * Re-derives a period from what the registry stores: each record's canonical text hashed to its
 * digest, salted to its leaf, the leaves to the root, compared with the stored digests, leaves,
 * leaf count and (for a sealed period) root. Undefined when everything agrees, else the first
 * difference. The fixity audit and a database copy both ask this. The tree is built giving the
 * event loop turns (a running center keeps answering).
 */
export async function periodProblem(store: Store, periodId: number): Promise<string | undefined> {
  const read = readPeriodLeaves(store, periodId);
  if (typeof read === 'string') return read;
  const root = read.count === 0 ? undefined : (await buildTreeLevels(read.leaves)).at(-1)!;
  return rootProblem(read.period, root);
}

/** {@link periodProblem} in one synchronous step (inside a transaction: a database copy's check before it commits). */
export function periodProblemNow(store: Store, periodId: number): string | undefined {
  const read = readPeriodLeaves(store, periodId);
  if (typeof read === 'string') return read;
  return rootProblem(read.period, read.count === 0 ? undefined : merkleRoot(read.leaves));
}

function readPeriodLeaves(store: Store, periodId: number): { period: PeriodRow; leaves: Buffer; count: number } | string {
  const period = findPeriod(store, periodId);
  if (!period) return `period ${periodId} is not in the registry`;
  const rows = store.prepare('SELECT * FROM registration WHERE period_id = ? ORDER BY leaf_index').all(periodId) as RegistrationRow[];
  const leaves = Buffer.alloc(rows.length * HASH_BYTES);
  for (const [i, r] of rows.entries()) {
    // The stored text is the record's canonical form, the exact bytes its digest covers.
    const recordDigest = hash('sha256', r.record, 'buffer');
    const leaf = saltedLeaf(r.salt, recordDigest);
    if (r.leaf_index !== i || !recordDigest.equals(r.record_digest) || !leaf.equals(r.leaf_hash)) return `registration ${r.id}: its record, salt and leaf no longer agree`;
    leaf.copy(leaves, i * HASH_BYTES);
  }
  if (rows.length !== period.leaf_count) return `${rows.length} registrations stored for ${period.leaf_count} leaves`;
  return { period, leaves, count: rows.length };
}

function rootProblem(period: PeriodRow, root: Buffer | undefined): string | undefined {
  if (period.status !== 'sealed' || root === undefined) return undefined;
  if (!period.root?.equals(root)) return `the leaves give root ${root.toString('hex')}, the period has ${period.root?.toString('hex')}`;
  return undefined;
}
