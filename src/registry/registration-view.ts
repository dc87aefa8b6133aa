import type { InclusionProof } from '../core/merkle.js';
import type { RegistrationRecord } from '../core/record.js';
import type { PeriodRow, RegistrationRow } from '../store/database.js';

/** A registration as the API shows it to its owner and to staff. */
export interface RegistrationView {
  id: number;
  /** `pending` until its period is sealed and rooted. */
  status: 'pending' | 'sealed';
  periodId: number;
  registeredAt: string;
  digests: { sha256: string; sm3?: string };
  /** The exact object whose RFC 8785 canonical bytes were hashed. */
  record: RegistrationRecord;
  recordDigest: { sha256: string };
  salt: string;
  leafHash: string;
  leafIndex: number;
  /** RFC 9162 inclusion proof to `root`, once sealed. */
  proof?: InclusionProof;
  root?: string;
}

/**
 * The view of a stored registration; `proof` is given when its period is sealed. `record` is
 * the parsed `row.record` when the caller already has it.
 */
export function toRegistrationView(
  row: RegistrationRow,
  period: Pick<PeriodRow, 'status' | 'root'> | undefined,
  proof?: InclusionProof,
  record: RegistrationRecord = JSON.parse(row.record) as RegistrationRecord,
): RegistrationView {
  const sealed = period?.status === 'sealed' && period.root !== null && proof !== undefined;
  return {
    id: row.id,
    status: sealed ? 'sealed' : 'pending',
    periodId: row.period_id,
    registeredAt: row.registered_at,
    digests: record.digests,
    record,
    recordDigest: { sha256: row.record_digest.toString('hex') },
    salt: row.salt.toString('hex'),
    leafHash: row.leaf_hash.toString('hex'),
    leafIndex: row.leaf_index,
    ...(sealed && { proof, root: period.root!.toString('hex') }),
  };
}

/**
 * The JSON text of a new registration's view (pending, no proof), written around `recordJson`,
 * the record's canonical JSON that the writer has just hashed, instead of serializing the record
 * again. Records are built in canonical member order, so this is byte for byte
 * `JSON.stringify(view)`, except where no JavaScript object can hold the canonical order
 * (integer-like metadata keys, which JavaScript lists first): there the record shows in the
 * canonical order, as it was hashed.
 */
export function pendingViewJson(view: RegistrationView, recordJson: string): string {
  return (
    `{"id":${view.id},"status":"pending","periodId":${view.periodId},"registeredAt":${JSON.stringify(view.registeredAt)},` +
    `"digests":${JSON.stringify(view.digests)},"record":${recordJson},"recordDigest":{"sha256":"${view.recordDigest.sha256}"},` +
    `"salt":"${view.salt}","leafHash":"${view.leafHash}","leafIndex":${view.leafIndex}}`
  );
}
