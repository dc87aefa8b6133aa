import type { Certificate } from '../core/certificate.js';
import { EVIDENCE_FORMAT, type EvidenceRecord } from '../core/evidence-renewal.js';
import { listRenewals } from '../store/renewals-repository.js';
import type { Store } from '../store/store.js';

/** The renewals of a period's timestamp as published (`GET /v1/periods/:id`, beside certificates); undefined before the first. */
export function periodEvidence(store: Store, periodId: number, rootHex: string): EvidenceRecord | undefined {
  const rows = listRenewals(store, periodId);
  if (rows.length === 0) return undefined;
  return {
    format: EVIDENCE_FORMAT,
    periodId,
    root: rootHex,
    renewals: rows.map((r) => ({ token: r.token.toString('base64'), genTime: r.gen_time, tsa: r.tsa, serial: r.serial, reason: r.reason })),
  };
}

/**
 * The certificate with its period's renewals as they stand now, beside the signed content: a
 * certificate issued before a renewal gets it when fetched again, without a new signature.
 */
export function withEvidence(store: Store, certificate: Certificate): Certificate {
  const evidence = periodEvidence(store, certificate.content.period.id, certificate.content.period.root);
  if (!evidence) return certificate;
  return { ...certificate, evidence };
}
