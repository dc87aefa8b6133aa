import { randomBytes } from 'node:crypto';
import { canonicalBytes } from '../core/canonical-json.js';
import { CERTIFICATE_FORMAT, type Certificate, type CertificateContent } from '../core/certificate.js';
import { isDevelopmentChain } from '../core/development-marker.js';
import { bytesToBase64 } from '../core/pem.js';
import { signDetached } from '../pki/cms-signer.js';
import type { CenterPki } from '../pki/center-pki.js';
import { findPeriodTimestamp, listAnchors } from '../store/anchors-repository.js';
import { findCertificate, findLatestCertificate, insertCertificate } from '../store/certificates-repository.js';
import type { AnchorRow } from '../store/database.js';
import { findPeriod } from '../store/periods-repository.js';
import type { Store } from '../store/store.js';
import { withEvidence } from './period-evidence.js';
import type { Principal } from './principal.js';
import type { RegistrationReader } from './registration-reader.js';
import { RegistryError } from './registry-error.js';

/** A certificate as issued: the file and its public link id. */
export interface IssuedCertificate {
  id: string;
  certificate: Certificate;
}

export interface CertificateIssuerOptions {
  store: Store;
  reader: RegistrationReader;
  pki: CenterPki;
  center: { id: string; name: string };
  /** Names of the chains every period must be anchored on before certificates are issued. */
  chains: () => readonly string[];
  /** True for a chain the center runs itself (the embedded one): its anchors are marked not independent. */
  isCenterChain?: (name: string) => boolean;
  now?: () => Date;
}

/**
 * Issues authenticity certificates (archive-seal/certificate@1) for registrations whose period
 * is sealed, timestamped and anchored on every configured chain, signed by the center with a
 * detached CMS signature over the content's canonical bytes. Each certificate is kept under a
 * random id (its public link); asking again gives the same one until the anchors change.
 */
export class CertificateIssuer {
  private readonly now: () => Date;

  constructor(private readonly options: CertificateIssuerOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /** The certificate of registration `id` as `principal` may see it; 409 NOT_YET_ANCHORED before. */
  issue(principal: Principal, registrationId: number): IssuedCertificate {
    const { store } = this.options;
    const view = this.options.reader.get(principal, registrationId);
    const period = findPeriod(store, view.periodId);
    if (!period || period.status !== 'sealed' || !view.proof || !period.root) {
      throw new RegistryError('NOT_YET_ANCHORED', `registration ${registrationId} is in period ${view.periodId}, not sealed yet`);
    }
    const timestamp = findPeriodTimestamp(store, period.id);
    const anchors = confirmedAnchors(listAnchors(store, period.id));
    const missing = this.options.chains().filter((name) => !anchors.some((a) => a.chain === name));
    if (timestamp && anchors.length === 0 && this.options.chains().length === 0) {
      // Nothing will ever anchor it: "try again shortly" would send the caller round in circles.
      throw new RegistryError(
        'NOT_YET_ANCHORED',
        `period ${period.id} is sealed and timestamped, but this center anchors on no chain (ARCHIVE_SEAL_CHAINS=none), and a certificate needs an anchor: configure a chain (README, Anchoring)`,
      );
    }
    if (!timestamp || missing.length > 0 || anchors.length === 0) {
      throw new RegistryError(
        'NOT_YET_ANCHORED',
        `period ${period.id} is sealed but ${!timestamp ? 'not yet timestamped' : `not yet anchored on ${missing.join(', ') || 'any chain'}`}; try again shortly`,
      );
    }
    const anchorIds = anchors.map((a) => a.id).join(',');
    const latest = findLatestCertificate(store, registrationId);
    if (latest && latest.anchor_ids === anchorIds) return { id: latest.id, certificate: withEvidence(store, JSON.parse(latest.document) as Certificate) };

    const issuedAt = this.now();
    const content: CertificateContent = {
      format: CERTIFICATE_FORMAT,
      issuedAt: issuedAt.toISOString(),
      issuer: { center: this.options.center.id, name: this.options.center.name, development: this.options.pki.isDevelopment },
      record: view.record,
      recordDigest: view.recordDigest,
      salt: view.salt,
      leaf: view.leafHash,
      proof: view.proof,
      period: {
        id: period.id,
        root: period.root.toString('hex'),
        previousRoot: period.previous_root!.toString('hex'),
        leafCount: period.leaf_count,
        sealedAt: period.sealed_at!,
      },
      timestamp: { token: timestamp.token.toString('base64'), genTime: timestamp.gen_time, tsa: timestamp.tsa, serial: timestamp.serial },
      anchors: anchors.map((a) => ({
        chain: a.chain,
        chainId: a.chain_id,
        contract: a.contract,
        txHash: a.tx_hash!,
        blockNumber: a.block_number!,
        blockHash: a.block_hash!,
        blockTime: a.block_time!,
        independent: !(this.options.isCenterChain?.(a.chain) ?? false) && !isDevelopmentChain({ chainId: a.chain_id }),
      })),
    };
    const signed = canonicalBytes(content);
    const certificate: Certificate = {
      format: CERTIFICATE_FORMAT,
      content,
      signedContent: bytesToBase64(signed),
      signature: bytesToBase64(signDetached(signed, this.options.pki.center, { signingTime: issuedAt })),
    };
    const id = randomBytes(16).toString('base64url');
    insertCertificate(store, { id, registration_id: registrationId, issued_at: content.issuedAt, anchor_ids: anchorIds, document: JSON.stringify(certificate) });
    return { id, certificate: withEvidence(store, certificate) };
  }

  /** A certificate by its public link id, or NOT_FOUND. */
  byId(id: string): IssuedCertificate {
    const row = /^[A-Za-z0-9_-]{22}$/.test(id) ? findCertificate(this.options.store, id) : undefined;
    if (!row) throw new RegistryError('NOT_FOUND', 'no certificate with this link');
    return { id: row.id, certificate: withEvidence(this.options.store, JSON.parse(row.document) as Certificate) };
  }
}

/** The live, confirmed anchor of each chain. */
function confirmedAnchors(rows: AnchorRow[]): AnchorRow[] {
  return rows.filter((a) => a.status === 'confirmed' && a.tx_hash && a.block_hash && a.block_number !== null && a.block_time);
}
