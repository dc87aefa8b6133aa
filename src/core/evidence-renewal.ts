import { sha256 } from './digests.js';
import { bytesToHex, hexToBytes, isHexOfLength } from './hex.js';
import { base64ToBytes } from './pem.js';
import type { SignatureEngine } from './signature-engine.js';
import { verifyTimestampToken, type TimestampVerificationResult } from './timestamp-verify.js';

/**
 * Evidence renewal in the manner of RFC 4998 (Evidence Record Syntax, §5.2 timestamp renewal):
 * before the TSA's certificate expires (or its algorithms are retired) the center timestamps the
 * period root again together with the last token, so each token is proven to have existed while
 * the one before it was still valid. The chain for a period with root R and first token T0
 * (the certificate's `content.timestamp.token`) is T0, T1, …, Tn where
 *
 *     imprint(Ti) = SHA-256(R ‖ DER(T(i-1)))     (R: the 32 root bytes; DER: the whole token)
 *
 * Each Ti (i < n) must verify with a certificate path valid both at its own genTime and at the
 * genTime of T(i+1); Tn at its genTime and now. The renewals are public and unsigned by the
 * center (each token proves itself), so they travel beside a certificate's signed content and a
 * renewal made after the certificate was issued needs no new signature.
 */
export const EVIDENCE_FORMAT = 'archive-seal/evidence@1';

/** One renewal token of a period. */
export interface RenewalLink {
  /** base64 DER TimeStampToken whose imprint is SHA-256(root ‖ DER of the previous token). */
  token: string;
  genTime: string;
  tsa: string;
  serial: string;
  /** Why it was made: the previous signer's expiry ahead, or a retired algorithm. */
  reason: string;
}

/** The renewals of a period, beside a certificate (`evidence`) and in `GET /v1/periods/:id`. */
export interface EvidenceRecord {
  format: typeof EVIDENCE_FORMAT;
  periodId: number;
  /** The period root, hex. */
  root: string;
  /** Oldest first; link 0 (the first token) is the certificate's own `content.timestamp`. */
  renewals: RenewalLink[];
}

/** The message imprint a renewal of `previousToken` over `root` must carry: SHA-256(root ‖ previousToken). */
export function renewalImprint(root: Uint8Array, previousToken: Uint8Array): Uint8Array {
  const joined = new Uint8Array(root.length + previousToken.length);
  joined.set(root, 0);
  joined.set(previousToken, root.length);
  return sha256(joined);
}

/** What to do when the renewals do not carry the evidence to today. */
const RENEWAL_REMEDY = (periodId: number) =>
  `fetch the certificate again from the center (or its period's renewals, GET /v1/periods/${periodId}) and verify again: its renewals carry the timestamp past the signers' expiry`;

/** Most renewals read (one every few years: a hundred is centuries). */
export const MAX_RENEWALS = 100;

/** One judged link of the chain, for the verification report. */
export interface EvidenceLinkOutcome {
  /**
   * `undetermined`, never `failed`: the renewals are unsigned evidence beside the certificate, so a
   * broken or missing one shows that the evidence does not reach today, not that the file or the
   * record is other than registered.
   */
  status: 'ok' | 'undetermined';
  remedy?: string;
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export interface EvidenceChainInput {
  root: Uint8Array;
  /** The first token (the certificate's) and the outcome of its check (at its genTime). */
  firstToken: Uint8Array;
  first: TimestampVerificationResult;
  /** The `evidence` field as found beside the certificate (anything: it is checked). */
  evidence: unknown;
  periodId: number;
  trustRoots: readonly (string | Uint8Array)[];
  now: Date;
  engine?: SignatureEngine;
}

/**
 * Judges the renewal chain: each renewal link (its imprint, signature, signer and times) and,
 * last, whether the newest token's signer is still valid now. Returns one outcome per renewal
 * link, then the long-term outcome. Never throws.
 */
export async function checkEvidenceChain(input: EvidenceChainInput): Promise<{ links: EvidenceLinkOutcome[]; longTerm: EvidenceLinkOutcome }> {
  const links: EvidenceLinkOutcome[] = [];
  const fail = (code: string, message: string, details?: Record<string, unknown>) => ({
    links: [...links, { status: 'undetermined' as const, code, message, remedy: RENEWAL_REMEDY(input.periodId), ...(details && { details }) }],
    longTerm: { status: 'undetermined' as const, code, message: `the renewal chain is broken: ${message}`, remedy: RENEWAL_REMEDY(input.periodId) },
  });
  const renewals = readRenewals(input.evidence, input.periodId, input.root);
  if (typeof renewals === 'string') return fail('RENEWAL_MALFORMED', renewals);

  let previousToken = input.firstToken;
  let previous = input.first;
  for (const [i, link] of renewals.entries()) {
    let token: Uint8Array;
    try {
      token = base64ToBytes(link.token);
    } catch {
      return fail('RENEWAL_MALFORMED', `renewal ${i + 1}: the token is not base64`);
    }
    const result = await verifyTimestampToken(token, renewalImprint(input.root, previousToken), input.trustRoots, input.engine ? { engine: input.engine } : {});
    if (result.status !== 'ok') {
      const code = result.code === 'TST_IMPRINT_MISMATCH' ? 'RENEWAL_IMPRINT_MISMATCH' : 'RENEWAL_TOKEN_INVALID';
      return fail(code, `renewal ${i + 1}: ${result.message}`, { tokenCode: result.code });
    }
    const at = result.genTime as Date;
    if (Date.parse(link.genTime) !== at.getTime()) {
      return fail('RENEWAL_GENTIME_MISMATCH', `renewal ${i + 1} gives its time as ${link.genTime}, its token says ${at.toISOString()}`);
    }
    const before = previous.pathValidity as { notAfter: Date };
    if (at.getTime() <= (previous.genTime as Date).getTime()) {
      return fail('RENEWAL_OUT_OF_ORDER', `renewal ${i + 1} (${at.toISOString()}) is not later than the token it renews (${previous.genTime?.toISOString()})`);
    }
    if (at.getTime() > before.notAfter.getTime()) {
      // Too late: when it was made, the token it renews could no longer be checked.
      return fail(
        'SIGNER_EXPIRED_BEFORE_RENEWAL',
        `renewal ${i + 1} was made at ${at.toISOString()}, after the certificate of ${previous.tsa} that signed the token before it had expired (${before.notAfter.toISOString()})`,
      );
    }
    links.push({
      status: 'ok',
      code: 'OK',
      message: `renewal ${i + 1}: ${result.tsa} timestamped the root and the token of ${previous.genTime?.toISOString()} at ${at.toISOString()}, while that token's signer was valid`,
      details: { index: i + 1, genTime: at.toISOString(), renews: previous.genTime?.toISOString(), tsa: result.tsa, serial: result.serial, reason: link.reason },
    });
    previousToken = token;
    previous = result;
  }
  const last = previous.pathValidity as { notAfter: Date };
  if (input.now.getTime() > last.notAfter.getTime()) {
    return {
      links,
      longTerm: {
        status: 'undetermined',
        remedy: RENEWAL_REMEDY(input.periodId),
        code: renewals.length === 0 ? 'SIGNER_EXPIRED_NO_RENEWAL' : 'SIGNER_EXPIRED_RENEWAL_ENDS',
        message:
          `the certificate of ${previous.tsa}, which signed the ${renewals.length === 0 ? 'timestamp' : 'last renewal'} (${previous.genTime?.toISOString()}), expired at ${last.notAfter.toISOString()}` +
          ` and no later renewal is given: fetch the certificate again from the center (or its period, GET /v1/periods/${input.periodId}) for its renewals`,
      },
    };
  }
  return {
    links,
    longTerm: {
      status: 'ok',
      code: 'OK',
      message:
        renewals.length === 0
          ? `the timestamp's signer is valid until ${last.notAfter.toISOString()}`
          : `${renewals.length} renewal(s) carry the timestamp of ${input.first.genTime?.toISOString()} to now; the last signer is valid until ${last.notAfter.toISOString()}`,
      details: { renewals: renewals.length, validUntil: last.notAfter.toISOString() },
    },
  };
}

/** The renewals of an `evidence` field, or why it cannot be read. Absent evidence: none. */
function readRenewals(evidence: unknown, periodId: number, root: Uint8Array): RenewalLink[] | string {
  if (evidence === undefined || evidence === null) return [];
  if (typeof evidence !== 'object' || Array.isArray(evidence)) return 'evidence is not an object';
  const e = evidence as Partial<EvidenceRecord>;
  if (e.format !== EVIDENCE_FORMAT) return `unknown evidence format ${JSON.stringify(e.format)}; this verifier reads ${EVIDENCE_FORMAT}`;
  if (e.periodId !== periodId || typeof e.root !== 'string' || !isHexOfLength(e.root, 32) || bytesToHex(hexToBytes(e.root)) !== bytesToHex(root)) {
    return `the evidence is for period ${String(e.periodId)} with root ${String(e.root)}, not for this certificate's period`;
  }
  if (!Array.isArray(e.renewals) || e.renewals.length > MAX_RENEWALS) return `evidence.renewals must be a list of at most ${MAX_RENEWALS}`;
  for (const link of e.renewals as unknown[]) {
    const l = link as Partial<RenewalLink> | null;
    if (typeof l !== 'object' || l === null || typeof l.token !== 'string' || typeof l.genTime !== 'string') return 'a renewal lacks its token or genTime';
  }
  return e.renewals;
}
