import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { certificateJsonFromPdf, looksLikePdf } from '../core/pdf-attachment.js';
import { rpcEndpoints } from '../core/rpc-endpoints.js';
import { verifyCertificate, type Verdict, type VerificationReport } from '../core/verify-certificate.js';
import { readTrustRoots, type TrustRoot } from '../web/trust-roots.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_UNDETERMINED, usageError } from './cli-error.js';
import { digestFile } from './file-digests.js';
import { nodeSignatureEngine } from '../pki/node-signature-engine.js';

export { VERIFY_USAGE } from './verify-usage.js';

/** The exit status of each verdict. */
export const VERDICT_EXIT: Readonly<Record<Verdict, number>> = { AUTHENTIC: EXIT_OK, NOT_AUTHENTIC: EXIT_FAILURE, CANNOT_BE_DETERMINED: EXIT_UNDETERMINED };

/** `archive-seal verify FILE CERT`: prints every step and the verdict; the exit status says it too. */
export async function verifyCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      rpc: { type: 'string', multiple: true, default: [] },
      trust: { type: 'string', multiple: true, default: [] },
      center: { type: 'string' },
      fingerprint: { type: 'string' },
      'tsa-trust': { type: 'string', multiple: true, default: [] },
      'allow-development': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 2) throw usageError('give the file and its certificate: archive-seal verify FILE CERT');
  const [filePath, certPath] = positionals as [string, string];
  for (const url of values.rpc) if (!/^https?:\/\//.test(url)) throw usageError(`--rpc ${url} is not an http(s) URL`);
  if (values.fingerprint !== undefined && !/^[0-9a-fA-F]{64}$/.test(values.fingerprint.replace(/:/g, ''))) {
    throw usageError('--fingerprint: give the root\'s SHA-256 fingerprint, 64 hex digits (colons allowed)');
  }
  if (values.fingerprint !== undefined && values.center === undefined && values.trust.length === 0) throw usageError('--fingerprint pins the root given with --center or --trust');

  const certificate = await readCertificate(certPath);
  const roots: NamedRoot[] = [];
  for (const file of values.trust) roots.push(...(await readRootFile(file, 'user')));
  const tsaRoots: NamedRoot[] = [];
  for (const file of values['tsa-trust']) tsaRoots.push(...(await readRootFile(file, 'user')));
  if (values.center !== undefined) {
    const fetched = await fetchCenterRoots(values.center);
    roots.push(...fetched.roots);
    tsaRoots.push(...fetched.timestampRoots);
  }
  if (values.fingerprint !== undefined) {
    const pinned = values.fingerprint.replace(/:/g, '').toLowerCase();
    const other = roots.filter((r) => r.sha256 !== pinned);
    if (other.length > 0 || roots.length === 0) {
      throw usageError(`FINGERPRINT_MISMATCH: the root is not the one pinned (--fingerprint ${pinned}): ${other.map((r) => `${r.subject} has SHA-256 ${r.sha256}`).join('; ')}`);
    }
  }

  let digests: { sha256: string; sm3: string };
  try {
    const { sha256, sm3 } = await digestFile(filePath);
    digests = { sha256, sm3 };
  } catch {
    throw usageError(`cannot read the file ${filePath}`);
  }
  const anchors = (certificate as { content?: { anchors?: { chainId?: unknown }[] } })?.content?.anchors;
  const chainIds = Array.isArray(anchors) ? anchors.map((a) => a?.chainId).filter((id): id is number => typeof id === 'number') : [];
  const { rpc, uses } = await rpcEndpoints(values.rpc, chainIds, fetch);
  const trustRoots = roots.map((r) => r.pem);
  const report = await verifyCertificate({
    certificate,
    file: digests,
    trustRoots,
    ...(tsaRoots.length > 0 && { timestampTrustRoots: [...trustRoots, ...tsaRoots.map((r) => r.pem)] }),
    rpc,
    allowDevelopment: values['allow-development'],
    engine: nodeSignatureEngine,
  });
  for (const use of uses) if (use.problem) report.notes.push(`JSON-RPC ${use.url}: ${use.problem}`);
  for (const root of roots) report.notes.push(`trusted root: ${root.subject}, SHA-256 fingerprint ${root.sha256} (${root.from}${root.isDevelopment ? ', DEVELOPMENT' : ''})`);
  for (const root of tsaRoots) report.notes.push(`trusted for the timestamp: ${root.subject}, SHA-256 fingerprint ${root.sha256} (${root.from})`);
  if (roots.length === 0) report.notes.push('no root was named (--trust or --center): the signature and the timestamp could not be tied to any center');
  if (values.rpc.length > 0) report.notes.push(`JSON-RPC: ${values.rpc.join(', ')}`);
  process.stdout.write(values.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report));
  return VERDICT_EXIT[report.verdict];
}

/** CERT as given: the certificate JSON, or a certificate PDF with the JSON attached (read from the attachment). */
async function readCertificate(path: string): Promise<unknown> {
  try {
    const bytes = await readFile(path);
    const text = looksLikePdf(bytes) ? await certificateJsonFromPdf(bytes) : bytes.toString('utf8');
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw usageError(`cannot read the certificate ${path}: ${(err as Error).message}`);
  }
}

type NamedRoot = TrustRoot & { from: string };

async function readRootFile(file: string, source: TrustRoot['source']): Promise<NamedRoot[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw usageError(`cannot read the trust root ${file}`);
  }
  try {
    return readTrustRoots(text, source).map((r) => ({ ...r, from: file }));
  } catch (err) {
    throw usageError(`the trust root ${file} is not a PEM certificate: ${(err as Error).message}`);
  }
}

/**
 * The roots a center publishes at `GET /v1/trust-roots`, each printed with its SHA-256
 * fingerprint on stderr so the reader can compare it with the center's public notice.
 */
async function fetchCenterRoots(base: string): Promise<{ roots: NamedRoot[]; timestampRoots: NamedRoot[] }> {
  let url: URL;
  try {
    url = new URL('/v1/trust-roots', base);
    if (!/^https?:$/.test(url.protocol)) throw new Error('not http(s)');
  } catch {
    throw usageError(`--center ${base} is not an http(s) URL`);
  }
  let body: { center?: { id?: string; name?: string }; roots?: { pem?: unknown }[]; timestampRoots?: { pem?: unknown }[] };
  try {
    const response = await fetch(url, { headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    body = (await response.json()) as typeof body;
  } catch (err) {
    throw usageError(`cannot fetch the center's root from ${url.href}: ${(err as Error).message}`);
  }
  const read = (list: { pem?: unknown }[] | undefined): NamedRoot[] => {
    const out: NamedRoot[] = [];
    for (const item of Array.isArray(list) ? list : []) {
      if (typeof item?.pem !== 'string') continue;
      try {
        out.push(...readTrustRoots(item.pem, 'center').map((r) => ({ ...r, from: url.href })));
      } catch {
        throw usageError(`${url.href} answered a root that is not a PEM certificate`);
      }
    }
    return out;
  };
  const roots = read(body.roots);
  if (roots.length === 0) throw usageError(`${url.href} named no root`);
  const timestampRoots = read(body.timestampRoots);
  const who = typeof body.center?.name === 'string' ? `${body.center.name} (${body.center.id ?? '?'})` : url.origin;
  for (const r of roots) {
    process.stderr.write(`root of ${who}: ${r.subject}\n  SHA-256 fingerprint ${colonHex(r.sha256)}\n  compare it with the fingerprint the center publishes; pin it with --fingerprint\n`);
  }
  return { roots, timestampRoots };
}

function colonHex(hex: string): string {
  return hex.toUpperCase().replace(/(..)(?!$)/g, '$1:');
}

const MARK = { ok: 'ok     ', failed: 'FAILED ', skipped: 'skipped', undetermined: 'UNKNOWN' } as const;

/** The verdict as printed. */
export const VERDICT_TEXT: Readonly<Record<Verdict, string>> = { AUTHENTIC: 'AUTHENTIC', NOT_AUTHENTIC: 'NOT AUTHENTIC', CANNOT_BE_DETERMINED: 'CANNOT BE DETERMINED' };

/** The report as people read it: one line per step (and what to do for a step that could not decide), then the verdict and the notes. */
export function formatReport(report: VerificationReport): string {
  const lines: string[] = [];
  for (const s of report.steps) {
    lines.push(`${MARK[s.status]}  ${s.step.padEnd(14)} ${s.status === 'ok' ? '' : `[${s.code}] `}${s.message}`);
    if (s.remedy) lines.push(`${' '.repeat(24)}what to do: ${s.remedy}`);
  }
  const subject = report.subject ? ` registration ${report.subject.registrationId} of ${report.subject.center}, period ${report.subject.periodId}` : '';
  const why =
    report.verdict === 'AUTHENTIC'
      ? report.developmentAllowed
        ? 'development keys or chain accepted by --allow-development: NOT EVIDENCE'
        : ''
      : report.verdict === 'NOT_AUTHENTIC'
        ? subject
          ? 'a check failed'
          : 'the certificate could not be read'
        : 'a check could not run or proves nothing; see "what to do"';
  lines.push('', `${VERDICT_TEXT[report.verdict]}:${subject}${why && ` (${why})`}`);
  for (const note of report.notes) lines.push(`note: ${note}`);
  return lines.join('\n') + '\n';
}
