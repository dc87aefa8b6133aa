import type { JsonRpcRequest } from './anchor-check.js';
import { checkAnchor } from './anchor-check.js';
import { canonicalBytes, CanonicalJsonError } from './canonical-json.js';
import { CERTIFICATE_FORMAT, type Certificate, type CertificateAnchor, type CertificateContent } from './certificate.js';
import { verifyDetachedCms } from './cms-verify.js';
import { isDevelopmentChain } from './development-marker.js';
import { checkEvidenceChain } from './evidence-renewal.js';
import { sha256 } from './digests.js';
import { bytesEqual, bytesToHex, hexToBytes, isHexOfLength } from './hex.js';
import { leafHash, pathSidesMatchPosition, rootFromProof, verifyInclusionRfc9162 } from './merkle.js';
import { base64ToBytes } from './pem.js';
import type { SignatureEngine } from './signature-engine.js';
import { verifyTimestampToken, type TimestampVerificationResult } from './timestamp-verify.js';

export type VerificationStepName =
  | 'format'
  | 'signature'
  | 'file-digests'
  | 'record-digest'
  | 'leaf'
  | 'merkle-path'
  | 'timestamp'
  | 'renewal'
  | 'long-term'
  | 'anchor'
  /** Only from the issuing center itself (`POST /v1/verify`): the certificate against its own registry. */
  | 'registry';

/**
 * What became of a step: `ok` it ran and held; `failed` it ran and the certificate or file is
 * not what it claims; `skipped` it could not run (nothing to run it with, e.g. no node);
 * `undetermined` it ran but proves nothing either way (a development key or chain, an unnamed
 * root, a node that cannot be reached or serves another chain).
 */
export type VerificationStepStatus = 'ok' | 'failed' | 'skipped' | 'undetermined';

/** One step of a verification: what was checked, its outcome, a code and a plain reason. */
export interface VerificationStep {
  step: VerificationStepName;
  status: VerificationStepStatus;
  code: string;
  message: string;
  /** For a skipped or undetermined step: what the reader can do so that it can decide. */
  remedy?: string;
  details?: Record<string, unknown>;
}

/**
 * The three verdicts. AUTHENTIC: every check ran and held. NOT_AUTHENTIC: a check ran and
 * failed. CANNOT_BE_DETERMINED: nothing failed, but a check could not run or proves nothing.
 */
export type Verdict = 'AUTHENTIC' | 'NOT_AUTHENTIC' | 'CANNOT_BE_DETERMINED';

export interface VerificationReport {
  format: 'archive-seal/verification-report@1';
  verdict: Verdict;
  /** For clients older than `verdict`: true only when the verdict is AUTHENTIC. */
  authentic: boolean;
  /** True when development keys or a development chain were accepted because the caller asked (never evidence). */
  developmentAllowed?: true;
  checkedAt: string;
  /** The registration, period and file the report is about, when the certificate could be read. */
  subject?: { registrationId: number; periodId: number; fileName?: string; center: string };
  steps: VerificationStep[];
  /** What a reader must know: development PKI, steps not run. */
  notes: string[];
}

export interface VerifyCertificateInput {
  /** The certificate as parsed JSON (anything: it is checked). */
  certificate: unknown;
  /** Digests of the file being checked, computed by the caller from the file it holds. */
  file?: { sha256: string; sm3?: string };
  /** PEM text or DER of the roots trusted for the center's signature (and the timestamp, unless `timestampTrustRoots`). */
  trustRoots: readonly (string | Uint8Array)[];
  /**
   * Roots trusted for the RFC 3161 token, when the center uses an outside TSA under another root.
   * Kept apart from `trustRoots`: a TSA's root must not make its other subscribers' signatures
   * pass for the center's.
   */
  timestampTrustRoots?: readonly (string | Uint8Array)[];
  /** JSON-RPC endpoints by chain id; anchors on chains without one are skipped and said so. */
  rpc?: ReadonlyMap<number, JsonRpcRequest>;
  /**
   * Accept the development PKI and development chains as if they proved something: for tests of
   * the software only. Their private keys are published, so without this such a step is
   * undetermined, and the report says when it was given.
   */
  allowDevelopment?: boolean;
  /** The present, for the long-term check (the last timestamp's signer must be valid now). */
  now?: Date;
  /** The signature and certificate-path work: node:crypto on the server and CLI, pkijs (default) in a browser. */
  engine?: SignatureEngine;
}

/**
 * Verifies a certificate step by step: its format; the center's CMS signature over the exact
 * signed bytes and that those bytes are the content shown; the file's digests against the
 * record; the record digest; the salted leaf; the Merkle path to the period root (by sides and
 * by RFC 9162); the RFC 3161 token over the root; each anchor on its chain. Every step runs
 * and is reported; nothing throws for a failed check.
 */
export async function verifyCertificate(input: VerifyCertificateInput): Promise<VerificationReport> {
  const steps: VerificationStep[] = [];
  const notes: string[] = [];
  const now = input.now ?? new Date();
  const development = { allowed: input.allowDevelopment === true, used: false };
  const report = (): VerificationReport => {
    const verdict = verdictOf(steps);
    return {
      format: 'archive-seal/verification-report@1',
      verdict,
      authentic: verdict === 'AUTHENTIC',
      ...(development.used && { developmentAllowed: true as const }),
      checkedAt: now.toISOString(),
      ...(subject && { subject }),
      steps,
      notes,
    };
  };
  let subject: VerificationReport['subject'];

  const cert = input.certificate as Partial<Certificate> | null;
  const shape = certificateShapeProblem(cert);
  if (shape) {
    steps.push({ step: 'format', status: 'failed', code: shape.code, message: shape.message });
    return report();
  }
  const { content } = cert as Certificate;
  const order = timesOutOfOrder(content);
  steps.push(
    order
      ? { step: 'format', status: 'failed', code: 'CERT_TIMES_OUT_OF_ORDER', message: `the certificate's times cannot all be true: ${order}` }
      : { step: 'format', status: 'ok', code: 'OK', message: `${CERTIFICATE_FORMAT}` },
  );
  subject = {
    registrationId: content.record.registrationId,
    periodId: content.period.id,
    center: content.record.center,
    ...(content.record.fileName !== undefined && { fileName: content.record.fileName }),
  };

  const timestampRoots = input.timestampTrustRoots ?? input.trustRoots;
  const stamp = await timestampStep(content, timestampRoots, notes, development, input.engine);
  steps.push(await signatureStep(cert as Certificate, input.trustRoots, provenTime(stamp.result, content, now), notes, development, input.engine));
  steps.push(fileStep(content, input.file));
  const digest = recordDigestStep(content, steps);
  const leaf = leafStep(content, digest, steps);
  steps.push(merkleStep(content, leaf));
  steps.push(stamp.step);
  steps.push(...(await longTermSteps(cert as Certificate, stamp, timestampRoots, now, notes, input.engine)));
  steps.push(...(await anchorSteps(content, input.rpc, development)));
  if (content.issuer.development) notes.push('signed with the DEVELOPMENT PKI: this certificate is not evidence');
  if (development.used) notes.push('development keys or chains were accepted because the caller asked (--allow-development): this verdict is for testing the software, not evidence');
  return report();
}

const REQUIRED: VerificationStepName[] = ['format', 'signature', 'file-digests', 'record-digest', 'leaf', 'merkle-path', 'timestamp', 'long-term'];

/**
 * The verdict of a list of steps. NOT_AUTHENTIC when any step failed. AUTHENTIC when every
 * required step is there and ok, every other step ok, and at least one anchor ok; an anchor on a
 * development chain that is not ok is passed over when another anchor is ok (it never proved
 * anything independent). Otherwise CANNOT_BE_DETERMINED.
 */
export function verdictOf(steps: readonly VerificationStep[]): Verdict {
  if (steps.some((s) => s.status === 'failed')) return 'NOT_AUTHENTIC';
  if (!REQUIRED.every((name) => steps.some((s) => s.step === name))) return 'CANNOT_BE_DETERMINED';
  if (steps.some((s) => s.step !== 'anchor' && s.status !== 'ok')) return 'CANNOT_BE_DETERMINED';
  const anchors = steps.filter((s) => s.step === 'anchor');
  if (!anchors.some((s) => s.status === 'ok')) return 'CANNOT_BE_DETERMINED';
  if (!anchors.every((s) => s.status === 'ok' || s.details?.['developmentChain'] === true)) return 'CANNOT_BE_DETERMINED';
  return 'AUTHENTIC';
}

/** The report with one more step (the center's registry check) and its verdict taken again. */
export function withStep(report: VerificationReport, step: VerificationStep): VerificationReport {
  const steps = [...report.steps, step];
  const verdict = verdictOf(steps);
  return { ...report, verdict, authentic: verdict === 'AUTHENTIC', steps };
}

/** Whether development keys and chains may pass, and whether one did. */
interface DevelopmentUse {
  allowed: boolean;
  used: boolean;
}

function certificateShapeProblem(cert: Partial<Certificate> | null): { code: string; message: string } | undefined {
  if (typeof cert !== 'object' || cert === null || Array.isArray(cert)) {
    return { code: 'CERT_MALFORMED', message: 'the certificate is not a JSON object' };
  }
  if (cert.format !== CERTIFICATE_FORMAT) {
    // Named only when it is short text: a certificate is untrusted input, and its format member
    // could be anything, even an array nested too deep for JSON.stringify.
    const format: unknown = cert.format;
    const named = typeof format === 'string' && format.length <= 100 ? JSON.stringify(format) : `(${format === null ? 'null' : typeof format})`;
    return { code: 'CERT_UNKNOWN_FORMAT', message: `unknown certificate format ${named}; this verifier reads ${CERTIFICATE_FORMAT}` };
  }
  const c = cert.content as Partial<CertificateContent> | undefined;
  const ok =
    typeof c === 'object' &&
    c !== null &&
    c.format === CERTIFICATE_FORMAT &&
    typeof c.issuedAt === 'string' &&
    typeof c.issuer?.center === 'string' &&
    typeof c.issuer.name === 'string' &&
    typeof c.issuer.development === 'boolean' &&
    typeof c.record === 'object' &&
    c.record !== null &&
    Number.isSafeInteger(c.record.registrationId) &&
    typeof c.record.registeredAt === 'string' &&
    typeof c.record.digests?.sha256 === 'string' &&
    (c.record.digests.sm3 === undefined || typeof c.record.digests.sm3 === 'string') &&
    typeof c.recordDigest?.sha256 === 'string' &&
    typeof c.salt === 'string' &&
    typeof c.leaf === 'string' &&
    typeof c.proof === 'object' &&
    Array.isArray(c.proof?.path) &&
    Number.isSafeInteger(c.proof.leafIndex) &&
    Number.isSafeInteger(c.proof.treeSize) &&
    Number.isSafeInteger(c.period?.id) &&
    typeof c.period?.root === 'string' &&
    typeof c.period.previousRoot === 'string' &&
    Number.isSafeInteger(c.period.leafCount) &&
    typeof c.period.sealedAt === 'string' &&
    typeof c.timestamp?.token === 'string' &&
    typeof c.timestamp.genTime === 'string' &&
    typeof c.timestamp.tsa === 'string' &&
    typeof c.timestamp.serial === 'string' &&
    Array.isArray(c.anchors) &&
    c.anchors.every(isAnchorShaped) &&
    typeof cert.signedContent === 'string' &&
    typeof cert.signature === 'string';
  if (!ok) return { code: 'CERT_MALFORMED', message: 'the certificate lacks fields its format requires, or has them of the wrong type' };
  // Each anchor costs JSON-RPC calls: a center anchors on a few chains, not thousands.
  if (c.anchors!.length > MAX_ANCHORS) return { code: 'CERT_MALFORMED', message: `the certificate lists ${c.anchors!.length} anchors; at most ${MAX_ANCHORS} are read` };
  return undefined;
}

/** Most anchors a certificate may list (a center anchors each period on a few chains). */
export const MAX_ANCHORS = 16;

function isAnchorShaped(a: unknown): boolean {
  if (typeof a !== 'object' || a === null) return false;
  const x = a as Partial<CertificateAnchor>;
  return (
    typeof x.chain === 'string' &&
    Number.isSafeInteger(x.chainId) &&
    typeof x.contract === 'string' &&
    typeof x.txHash === 'string' &&
    Number.isSafeInteger(x.blockNumber) &&
    typeof x.blockHash === 'string' &&
    typeof x.blockTime === 'string' &&
    (x.independent === undefined || typeof x.independent === 'boolean')
  );
}

/**
 * The times a certificate states, in the order they must have happened: registered, sealed,
 * certified, all by the center's clock; the timestamp by the TSA's, so within a tolerance of
 * the center's (clocks differ, and a timestamp may come hours after the seal, but never before
 * it). Undefined when they are in order.
 */
function timesOutOfOrder(content: CertificateContent): string | undefined {
  const registered = Date.parse(content.record.registeredAt);
  const sealed = Date.parse(content.period.sealedAt);
  const issued = Date.parse(content.issuedAt);
  const stamped = Date.parse(content.timestamp.genTime);
  if ([registered, sealed, issued, stamped].some(Number.isNaN)) return 'a time in the certificate is not a date';
  if (registered > sealed) return `registered at ${content.record.registeredAt}, after its period was sealed at ${content.period.sealedAt}`;
  if (sealed > issued) return `issued at ${content.issuedAt}, before its period was sealed at ${content.period.sealedAt}`;
  if (stamped < sealed - CLOCK_TOLERANCE_MS) return `timestamped at ${content.timestamp.genTime}, before its period was sealed at ${content.period.sealedAt}`;
  if (stamped > issued + CLOCK_TOLERANCE_MS) return `timestamped at ${content.timestamp.genTime}, after the certificate was issued at ${content.issuedAt}`;
  return undefined;
}

/** How far the TSA's clock and the center's may differ. */
const CLOCK_TOLERANCE_MS = 10 * 60_000;

/**
 * The time at which the center's signature is judged: the genTime the token proves (RFC 3161), not
 * today, so the signer's expiry years later does not void it; the time the certificate states
 * when the token cannot be read (the timestamp step fails then anyway).
 */
function provenTime(stamp: TimestampVerificationResult | undefined, content: CertificateContent, now: Date): Date {
  if (stamp?.genTime) return stamp.genTime;
  const stated = new Date(content.timestamp.genTime);
  return Number.isNaN(stated.getTime()) ? now : stated;
}

async function signatureStep(
  cert: Certificate,
  trustRoots: VerifyCertificateInput['trustRoots'],
  at: Date,
  notes: string[],
  development: DevelopmentUse,
  engine: SignatureEngine | undefined,
): Promise<VerificationStep> {
  const fail = (code: string, message: string, details?: Record<string, unknown>): VerificationStep => ({
    step: 'signature',
    status: 'failed',
    code,
    message,
    ...(details && { details }),
  });
  let signed: Uint8Array;
  let signature: Uint8Array;
  try {
    signed = base64ToBytes(cert.signedContent);
    signature = base64ToBytes(cert.signature);
  } catch {
    return fail('CERT_MALFORMED', 'signedContent or signature is not base64');
  }
  let shown: Uint8Array;
  try {
    shown = canonicalBytes(cert.content);
  } catch (err) {
    return fail('CERT_MALFORMED', `the content is not canonical JSON: ${(err as CanonicalJsonError).message}`);
  }
  if (!bytesEqual(shown, signed)) {
    return fail('CERT_CONTENT_MISMATCH', 'the content shown is not the content the center signed');
  }
  // Checked at the time the timestamp proves: the center's signer and its chain must have been valid then.
  let result = await verifyDetachedCms(signature, signed, trustRoots, { at, ...(engine && { engine }) });
  let judgedAt = at;
  const issuedAt = new Date(cert.content.issuedAt);
  if (result.code === 'CMS_UNTRUSTED_SIGNER' && result.signer && result.signer.notBefore.getTime() > at.getTime() && issuedAt.getTime() > at.getTime()) {
    // A certificate issued after the center renewed its key: its signer did not exist at genTime. Judged when it says it was signed.
    result = await verifyDetachedCms(signature, signed, trustRoots, { at: issuedAt, ...(engine && { engine }) });
    judgedAt = issuedAt;
    if (result.status === 'ok') notes.push(`the center's signature was made with a key certified after the timestamp; it is judged at the signing time the certificate states (${cert.content.issuedAt}), which no timestamp proves`);
  }
  const signer = result.signer && { signer: result.signer.subject };
  if (result.status !== 'ok') {
    // Not chaining to the roots the reader named says nothing about the content: the reader
    // may hold another center's root, or none. Only the reader can settle it.
    if (result.code === 'CMS_UNTRUSTED_SIGNER' || result.code === 'CMS_BAD_TRUST_ROOT') {
      return trustUndetermined('signature', trustRoots.length === 0 ? 'CMS_NO_TRUST_ROOT' : result.code, result.message, cert.content.record.center, signer);
    }
    return fail(result.code, result.message, signer);
  }
  if (result.signer?.chainsToDevelopment || cert.content.issuer.development) {
    notes.push('the center signature chains to a DEVELOPMENT root');
    if (!development.allowed) {
      return {
        step: 'signature',
        status: 'undetermined',
        code: 'CMS_DEVELOPMENT_PKI',
        message: `signed under the DEVELOPMENT PKI (${result.signer?.subject ?? 'unknown signer'}), whose private keys are published with Archive Seal: anyone can make such a signature`,
        remedy: "a development certificate is not evidence: ask the center for one signed with its own keys, and check it against the center's root (a test of the software itself may accept development keys with --allow-development)",
        ...(signer && { details: signer }),
      };
    }
    development.used = true;
  }
  notes.push(revocationNote("the center's", result.revocationServices));
  return {
    step: 'signature',
    status: 'ok',
    code: 'OK',
    message: `signed by ${result.signer?.subject ?? 'the center'}, whose certificate chain was valid at ${judgedAt.toISOString()}`,
    details: { signer: result.signer?.subject, validAt: judgedAt.toISOString() },
  };
}

/** A signature or timestamp step that could not be judged for want of the right trust root. */
function trustUndetermined(step: 'signature' | 'timestamp', code: string, message: string, center: string, details?: Record<string, unknown>): VerificationStep {
  const none = code === 'CMS_NO_TRUST_ROOT' || code === 'TST_NO_TRUST_ROOT';
  return {
    step,
    status: 'undetermined',
    code,
    message: none ? 'no trust root was named, so the signer cannot be tied to any center' : message,
    remedy: none
      ? `name the root of the center that issued the certificate ("${center}"): --trust ROOT.pem, or --center URL and compare the SHA-256 fingerprint it prints with the one the center publishes`
      : `the signer does not chain to a root you named: if the certificate is from center "${center}", get that center's root (and check its SHA-256 fingerprint) and verify again`,
    ...(details && { details }),
  };
}

function fileStep(content: CertificateContent, file: VerifyCertificateInput['file']): VerificationStep {
  if (!file) return { step: 'file-digests', status: 'failed', code: 'FILE_MISSING', message: 'no file (or digests) to check against the record' };
  const recorded = content.record.digests;
  if (file.sha256.toLowerCase() !== recorded.sha256.toLowerCase()) {
    return {
      step: 'file-digests',
      status: 'failed',
      code: 'FILE_DIGEST_MISMATCH',
      message: 'the file is not the registered one: its SHA-256 differs',
      details: { fileSha256: file.sha256, recordedSha256: recorded.sha256 },
    };
  }
  if (recorded.sm3 !== undefined && file.sm3 !== undefined && file.sm3.toLowerCase() !== recorded.sm3.toLowerCase()) {
    return { step: 'file-digests', status: 'failed', code: 'FILE_DIGEST_MISMATCH', message: 'the file is not the registered one: its SM3 differs', details: { fileSm3: file.sm3, recordedSm3: recorded.sm3 } };
  }
  const both = recorded.sm3 !== undefined && file.sm3 !== undefined;
  return { step: 'file-digests', status: 'ok', code: 'OK', message: both ? 'SHA-256 and SM3 of the file match the record' : 'SHA-256 of the file matches the record' };
}

function recordDigestStep(content: CertificateContent, steps: VerificationStep[]): Uint8Array | undefined {
  let digest: Uint8Array;
  try {
    digest = sha256(canonicalBytes(content.record));
  } catch (err) {
    steps.push({ step: 'record-digest', status: 'failed', code: 'RECORD_MALFORMED', message: `the record is not canonical JSON: ${(err as Error).message}` });
    return undefined;
  }
  if (bytesToHex(digest) !== content.recordDigest.sha256.toLowerCase()) {
    steps.push({ step: 'record-digest', status: 'failed', code: 'RECORD_DIGEST_MISMATCH', message: 'the record was changed: its SHA-256 is not the one certified' });
    return digest;
  }
  steps.push({ step: 'record-digest', status: 'ok', code: 'OK', message: 'SHA-256 of the record (RFC 8785 canonical JSON) matches' });
  return digest;
}

function leafStep(content: CertificateContent, digest: Uint8Array | undefined, steps: VerificationStep[]): Uint8Array | undefined {
  if (!digest || !isHexOfLength(content.salt, 32) || !isHexOfLength(content.leaf, 32)) {
    steps.push({ step: 'leaf', status: 'failed', code: 'LEAF_MALFORMED', message: 'the salt or leaf is not 32 bytes of hex' });
    return undefined;
  }
  const leaf = leafHash(hexToBytes(content.salt), digest);
  if (bytesToHex(leaf) !== content.leaf.toLowerCase()) {
    steps.push({ step: 'leaf', status: 'failed', code: 'LEAF_MISMATCH', message: 'SHA-256(0x00 ‖ salt ‖ record digest) is not the certified leaf' });
    return leaf;
  }
  steps.push({ step: 'leaf', status: 'ok', code: 'OK', message: 'the salted leaf matches the record' });
  return leaf;
}

function merkleStep(content: CertificateContent, leaf: Uint8Array | undefined): VerificationStep {
  const fail = (code: string, message: string): VerificationStep => ({ step: 'merkle-path', status: 'failed', code, message });
  const { proof, period } = content;
  if (!leaf || !isHexOfLength(period.root, 32)) return fail('PROOF_MALFORMED', 'no leaf or no 32-byte root to check the path against');
  if (proof.leafIndex < 0 || proof.leafIndex >= period.leafCount) return fail('PROOF_INVALID', `the proof is for leaf number ${proof.leafIndex}, the period has ${period.leafCount} leaves`);
  if (proof.treeSize !== period.leafCount) return fail('PROOF_INVALID', `the proof is for ${proof.treeSize} leaves, the period has ${period.leafCount}`);
  let folded: Uint8Array;
  try {
    folded = rootFromProof(leaf, proof.path);
  } catch {
    return fail('PROOF_MALFORMED', 'a path hash is not 32 bytes of hex');
  }
  const root = hexToBytes(period.root);
  if (!bytesEqual(folded, root) || !pathSidesMatchPosition(proof) || !verifyInclusionRfc9162(leaf, proof, root)) {
    return fail('PROOF_INVALID', 'the Merkle path does not lead from the leaf to the period root');
  }
  return { step: 'merkle-path', status: 'ok', code: 'OK', message: `the leaf is number ${proof.leafIndex} of ${proof.treeSize} under root ${period.root}` };
}

/** The timestamp step, with the token and the verifier's result kept for the signature and long-term steps. */
interface TimestampOutcome {
  step: VerificationStep;
  token?: Uint8Array;
  result?: TimestampVerificationResult;
}

async function timestampStep(
  content: CertificateContent,
  trustRoots: VerifyCertificateInput['trustRoots'],
  notes: string[],
  development: DevelopmentUse,
  engine: SignatureEngine | undefined,
): Promise<TimestampOutcome> {
  let token: Uint8Array;
  try {
    token = base64ToBytes(content.timestamp.token);
  } catch {
    return { step: { step: 'timestamp', status: 'failed', code: 'TST_MALFORMED', message: 'the timestamp token is not base64' } };
  }
  if (!isHexOfLength(content.period.root, 32)) return { step: { step: 'timestamp', status: 'failed', code: 'TST_IMPRINT_MISMATCH', message: 'no 32-byte root to check the token against' } };
  const result = await verifyTimestampToken(token, hexToBytes(content.period.root), trustRoots, engine ? { engine } : {});
  return { step: timestampVerdict(content, result, trustRoots, notes, development), token, result };
}

function timestampVerdict(
  content: CertificateContent,
  result: TimestampVerificationResult,
  trustRoots: VerifyCertificateInput['trustRoots'],
  notes: string[],
  development: DevelopmentUse,
): VerificationStep {
  if (result.status !== 'ok') {
    if (result.code === 'TST_UNTRUSTED' || result.code === 'TST_BAD_TRUST_ROOT') {
      return trustUndetermined('timestamp', trustRoots.length === 0 ? 'TST_NO_TRUST_ROOT' : result.code, result.message, content.record.center, result.tsa === undefined ? undefined : { tsa: result.tsa });
    }
    return { step: 'timestamp', status: 'failed', code: result.code, message: result.message };
  }
  // The time the certificate states (and prints) must be the one the TSA signed.
  if (result.genTime?.getTime() !== Date.parse(content.timestamp.genTime)) {
    return {
      step: 'timestamp',
      status: 'failed',
      code: 'TST_GENTIME_MISMATCH',
      message: `the certificate gives the timestamp as ${content.timestamp.genTime}, the token says ${result.genTime?.toISOString()}`,
    };
  }
  // The serial number and TSA the certificate states (and prints) must be the token's own.
  if (!sameSerial(content.timestamp.serial, result.serial)) {
    return { step: 'timestamp', status: 'failed', code: 'TST_SERIAL_MISMATCH', message: `the certificate gives the token's serial number as ${content.timestamp.serial}, the token says ${result.serial}` };
  }
  if (content.timestamp.tsa !== result.tsa) {
    return { step: 'timestamp', status: 'failed', code: 'TST_STATED_TSA_MISMATCH', message: `the certificate names the timestamp authority ${content.timestamp.tsa}, the token was signed by ${result.tsa}` };
  }
  if (result.isDevelopment) {
    notes.push('the timestamp comes from a DEVELOPMENT TSA');
    if (!development.allowed) {
      return {
        step: 'timestamp',
        status: 'undetermined',
        code: 'TST_DEVELOPMENT_TSA',
        message: `the token is from a DEVELOPMENT TSA (${result.tsa}, policy ${result.policy}): its keys are published, or its policy says it is not evidence`,
        remedy: "ask the center for a certificate whose timestamp comes from its own TSA (set up with its own keys) or an accredited one",
        details: { tsa: result.tsa, policy: result.policy },
      };
    }
    development.used = true;
  }
  return {
    step: 'timestamp',
    status: 'ok',
    code: 'OK',
    message: `the root existed at ${result.genTime?.toISOString()} (RFC 3161 token of ${result.tsa})`,
    details: { genTime: result.genTime?.toISOString(), tsa: result.tsa, serial: result.serial },
  };
}

/** Equal serial numbers, however written (hex, either case, leading zeros or not). */
function sameSerial(stated: string, actual: string | undefined): boolean {
  if (actual === undefined || !/^[0-9a-fA-F]{1,64}$/.test(stated)) return false;
  return BigInt(`0x${stated}`) === BigInt(`0x${actual}`);
}

/**
 * Long-term validation: each renewal of the period's timestamp (RFC 4998 style, the unsigned
 * `evidence` beside the content) and whether the newest token's signer is valid now. Without a
 * valid first token there is nothing to carry forward, and the steps say so.
 */
async function longTermSteps(
  cert: Certificate,
  stamp: TimestampOutcome,
  trustRoots: VerifyCertificateInput['trustRoots'],
  now: Date,
  notes: string[],
  engine: SignatureEngine | undefined,
): Promise<VerificationStep[]> {
  if (stamp.step.status !== 'ok' || !stamp.token || !stamp.result) {
    // Undetermined, not failed: the timestamp step itself says whether the token is false.
    return [{ step: 'long-term', status: 'undetermined', code: 'TST_NOT_VERIFIED', message: 'the timestamp did not verify, so nothing carries the evidence to now' }];
  }
  notes.push(revocationNote("the TSA's", stamp.result.revocationServices));
  const { links, longTerm } = await checkEvidenceChain({
    root: hexToBytes(cert.content.period.root),
    firstToken: stamp.token,
    first: stamp.result,
    evidence: cert.evidence,
    periodId: cert.content.period.id,
    trustRoots,
    now,
    ...(engine && { engine }),
  });
  return [...links.map((l): VerificationStep => ({ step: 'renewal', ...l })), { step: 'long-term', ...longTerm }];
}

/** What the report says of revocation: the services named, never a check it did not make. */
function revocationNote(whose: string, services: readonly string[] | undefined): string {
  if (!services || services.length === 0) {
    return `revocation: ${whose} certificates name no revocation service (no CRL distribution point, no OCSP responder): this PKI publishes none, so none was checked`;
  }
  return `revocation: ${whose} certificates name ${services.join(', ')}; this verifier does not fetch revocation data, so revocation was not checked`;
}

/** Anchor outcomes that say the node could not answer for the chain, not that the anchor is wrong. */
const NODE_PROBLEMS = new Set(['ANCHOR_RPC_ERROR', 'ANCHOR_CHAIN_MISMATCH']);

/**
 * One step per anchor the certificate lists, each checked on a node of its own chain. An anchor
 * on a development chain (the center's own, or a local chain id) proves nothing independent of
 * the center: whatever its node says, the step is undetermined unless development is allowed.
 */
async function anchorSteps(content: CertificateContent, rpc: VerifyCertificateInput['rpc'], development: DevelopmentUse): Promise<VerificationStep[]> {
  if (content.anchors.length === 0) {
    return [{ step: 'anchor', status: 'failed', code: 'ANCHOR_NOT_FOUND', message: 'the certificate records no anchor' }];
  }
  const steps: VerificationStep[] = [];
  for (const anchor of content.anchors) {
    const developmentChain = isDevelopmentChain(anchor);
    const details = { chainId: anchor.chainId, chain: anchor.chain, contract: anchor.contract, txHash: anchor.txHash, independent: !developmentChain, developmentChain };
    const request = rpc?.get(anchor.chainId);
    if (!request) {
      const served = [...(rpc?.keys() ?? [])];
      steps.push(
        served.length === 0
          ? {
              step: 'anchor',
              status: 'skipped',
              code: 'ANCHOR_NOT_CHECKED',
              message: `not checked: no JSON-RPC URL for chain ${anchor.chainId} (${anchor.chain}) was given`,
              remedy: `give the JSON-RPC URL of a node of chain ${anchor.chainId} (--rpc URL)`,
              details,
            }
          : {
              step: 'anchor',
              status: 'undetermined',
              code: 'ANCHOR_CHAIN_NOT_SERVED',
              message: `not checked: the node(s) given serve chain ${served.join(', ')}, not chain ${anchor.chainId} (${anchor.chain})`,
              remedy: `give the JSON-RPC URL of a node of chain ${anchor.chainId}`,
              details,
            },
      );
      continue;
    }
    const result = await checkAnchor(request, {
      chainId: anchor.chainId,
      contract: anchor.contract,
      periodId: content.period.id,
      root: `0x${content.period.root}`,
      previousRoot: `0x${content.period.previousRoot}`,
      txHash: anchor.txHash,
      blockNumber: anchor.blockNumber,
      blockHash: anchor.blockHash,
    });
    const blockSeconds = result.details.blockTimestamp;
    let outcome: Pick<VerificationStep, 'status' | 'code' | 'message'>;
    if (result.status === 'ok' && (blockSeconds === undefined || blockSeconds * 1000 !== Date.parse(anchor.blockTime))) {
      // The block time the certificate states (and prints) must be the block's own.
      const onChain = blockSeconds === undefined ? 'not given by the node' : new Date(blockSeconds * 1000).toISOString();
      outcome = { status: 'failed', code: 'ANCHOR_BLOCK_TIME_MISMATCH', message: `the certificate gives block ${anchor.blockNumber}'s time as ${anchor.blockTime}; the chain: ${onChain}` };
    } else if (result.status === 'ok') {
      outcome = { status: 'ok', code: 'OK', message: `chain ${anchor.chainId} holds the root for period ${content.period.id} (block ${anchor.blockNumber}, tx ${anchor.txHash})` };
    } else {
      outcome = { status: 'failed', code: result.code, message: result.message };
    }
    if (outcome.status === 'failed' && NODE_PROBLEMS.has(outcome.code)) {
      steps.push({ step: 'anchor', ...outcome, status: 'undetermined', remedy: `check the node's URL and the network, or give another node of chain ${anchor.chainId}`, details });
      continue;
    }
    if (developmentChain && !development.allowed) {
      steps.push({
        step: 'anchor',
        status: 'undetermined',
        code: 'ANCHOR_DEVELOPMENT_CHAIN',
        message: `${outcome.message}; but chain ${anchor.chainId} (${anchor.chain}) is a development chain (the center's own, or a local chain id): whoever runs its node can rewrite it, so it proves nothing independent of the center`,
        remedy: 'ask the center for a certificate anchored on an outside chain, and check it with a node of that chain',
        details: { ...details, checked: outcome.code },
      });
      continue;
    }
    if (developmentChain && outcome.status === 'ok') development.used = true;
    steps.push({ step: 'anchor', ...outcome, message: developmentChain && outcome.status === 'ok' ? `${outcome.message} (a development chain: nothing independent of the center)` : outcome.message, details });
  }
  return steps;
}
