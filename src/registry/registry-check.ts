import type { CertificateContent } from '../core/certificate.js';
import type { VerificationStep } from '../core/verify-certificate.js';
import { findPeriod } from '../store/periods-repository.js';
import { findRegistration } from '../store/registrations-repository.js';
import type { Store } from '../store/store.js';

/** One fact a certificate states that the center's own registry holds otherwise. */
export interface RegistryDifference {
  field: 'registrationId' | 'periodId' | 'recordDigest' | 'leaf' | 'leafIndex' | 'periodRoot' | 'treeSize';
  certificate: string | number;
  registry: string | number | null;
}

/**
 * The issuing center's own check of a certificate that names it: what the certificate says of
 * the registration (its id, record digest, salted leaf, position) and of its period (root, leaf
 * count) against the center's database. A signature proves who signed; this proves the center
 * signed *this*: a certificate made with keys that leaked, or with the published development
 * keys, cannot agree with a registry it never saw.
 */
export class RegistryCheck {
  constructor(
    private readonly store: Store,
    private readonly centerId: string,
  ) {}

  /** Whether the certificate names this center (only then can the registry speak to it). */
  names(content: Pick<CertificateContent, 'record' | 'issuer'>): boolean {
    return content.record.center === this.centerId || content.issuer.center === this.centerId;
  }

  /** Every stated fact the registry holds otherwise; empty when they all agree. */
  differences(content: CertificateContent): RegistryDifference[] {
    const out: RegistryDifference[] = [];
    const row = findRegistration(this.store, content.record.registrationId);
    if (!row) return [{ field: 'registrationId', certificate: content.record.registrationId, registry: null }];
    const hex = (b: Buffer | null) => (b === null ? null : b.toString('hex'));
    const same = (a: string, b: string | null) => b !== null && a.toLowerCase() === b;
    if (row.period_id !== content.period.id) out.push({ field: 'periodId', certificate: content.period.id, registry: row.period_id });
    if (!same(content.recordDigest.sha256, hex(row.record_digest))) out.push({ field: 'recordDigest', certificate: content.recordDigest.sha256, registry: hex(row.record_digest) });
    if (!same(content.leaf, hex(row.leaf_hash))) out.push({ field: 'leaf', certificate: content.leaf, registry: hex(row.leaf_hash) });
    if (row.leaf_index !== content.proof.leafIndex) out.push({ field: 'leafIndex', certificate: content.proof.leafIndex, registry: row.leaf_index });
    const period = findPeriod(this.store, content.period.id);
    const sealed = period?.status === 'sealed' ? period : undefined;
    if (!same(content.period.root, hex(sealed?.root ?? null))) out.push({ field: 'periodRoot', certificate: content.period.root, registry: hex(sealed?.root ?? null) });
    if (sealed?.leaf_count !== content.proof.treeSize) out.push({ field: 'treeSize', certificate: content.proof.treeSize, registry: sealed?.leaf_count ?? null });
    return out;
  }

  /** The `registry` step of a verification report. */
  step(content: CertificateContent): VerificationStep {
    const differences = this.differences(content);
    if (differences.length === 0) {
      return {
        step: 'registry',
        status: 'ok',
        code: 'OK',
        message: `registration ${content.record.registrationId}, its record digest, leaf, position and period root are those in this center's registry`,
      };
    }
    const shown = differences.map((d) => `${d.field}: certificate ${d.certificate}, registry ${d.registry ?? 'none'}`).join('; ');
    return {
      step: 'registry',
      status: 'failed',
      code: 'REGISTRY_MISMATCH',
      message: `the certificate names this center, but its registry holds otherwise: ${shown}`,
      details: { differences },
    };
  }
}
