import { hash } from 'node:crypto';
import type { RegistrationRow } from '../store/database.js';
import { findPeriod } from '../store/periods-repository.js';
import type { Store } from '../store/store.js';
import { buildTreeLevels, HASH_BYTES, saltedLeaf } from './tree-builder.js';

/**
 * Re-derives a period from what the registry stores: each record's canonical text hashed to its
 * digest, salted to its leaf, the leaves to the root, compared with the stored digests, leaves,
 * leaf count and (for a sealed period) root. Undefined when everything agrees, else the first
 * difference. The fixity audit and a database copy both ask this.
 */
export async function periodProblem(store: Store, periodId: number): Promise<string | undefined> {
  const period = findPeriod(store, periodId);
  if (!period) return `period ${periodId} is not in the registry`;
  const rows = store.prepare('SELECT * FROM registration WHERE period_id = ? ORDER BY leaf_index').all(periodId) as RegistrationRow[];
  let problem: string | undefined;
  const leaves = Buffer.alloc(rows.length * HASH_BYTES);
  rows.forEach((r, i) => {
    // The stored text is the record's canonical form, the exact bytes its digest covers.
    const recordDigest = hash('sha256', r.record, 'buffer');
    const leaf = saltedLeaf(r.salt, recordDigest);
    if (!problem && (r.leaf_index !== i || !recordDigest.equals(r.record_digest) || !leaf.equals(r.leaf_hash))) {
      problem = `registration ${r.id}: its record, salt and leaf no longer agree`;
    }
    leaf.copy(leaves, i * HASH_BYTES);
  });
  if (problem) return problem;
  if (rows.length !== period.leaf_count) return `${rows.length} registrations stored for ${period.leaf_count} leaves`;
  if (period.status === 'sealed' && rows.length > 0) {
    const levels = await buildTreeLevels(leaves);
    const root = levels[levels.length - 1]!;
    if (!period.root?.equals(root)) return `the leaves give root ${root.toString('hex')}, the period has ${period.root?.toString('hex')}`;
  }
  return undefined;
}
