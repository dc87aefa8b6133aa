import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { rpcEndpoints } from '../core/rpc-endpoints.js';
import { verifyCertificate, type VerificationReport } from '../core/verify-certificate.js';
import { nodeSignatureEngine } from '../pki/node-signature-engine.js';
import { EXIT_FAILURE, EXIT_OK, usageError } from './cli-error.js';
import { digestFile } from './register-command.js';

export const VERIFY_USAGE = `archive-seal verify FILE CERT [--rpc URL]... [--trust ROOT.pem]... [--tsa-trust ROOT.pem]... [--json]
  Checks FILE against the certificate CERT, offline: digests, record, leaf, Merkle path,
  RFC 3161 token, the center's signature and chain to a trusted root, and (with --rpc) the
  anchor on its chain. --tsa-trust: the root of an outside TSA the center uses, trusted for the
  timestamp only. Exit 0 authentic, 1 not, 2 usage or unreadable input.`;

/** `archive-seal verify FILE CERT`: prints every step; exit 0 only when authentic. */
export async function verifyCommand(args: string[], defaultTrustFile: () => string): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      rpc: { type: 'string', multiple: true, default: [] },
      trust: { type: 'string', multiple: true, default: [] },
      'tsa-trust': { type: 'string', multiple: true, default: [] },
      json: { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 2) throw usageError('give the file and its certificate: archive-seal verify FILE CERT');
  const [filePath, certPath] = positionals as [string, string];

  let certificate: unknown;
  try {
    certificate = JSON.parse(await readFile(certPath, 'utf8'));
  } catch (err) {
    throw usageError(`cannot read the certificate ${certPath}: ${(err as Error).message}`);
  }
  const trustFiles = values.trust.length > 0 ? values.trust : [defaultTrustFile()];
  const readRoots = async (files: readonly string[]) => {
    const roots: string[] = [];
    for (const file of files) {
      try {
        roots.push(await readFile(file, 'utf8'));
      } catch {
        throw usageError(`cannot read the trust root ${file}`);
      }
    }
    return roots;
  };
  const trustRoots = await readRoots(trustFiles);
  const tsaRoots = await readRoots(values['tsa-trust']);
  let digests: { sha256: string; sm3: string };
  try {
    const { sha256, sm3 } = await digestFile(filePath);
    digests = { sha256, sm3 };
  } catch {
    throw usageError(`cannot read the file ${filePath}`);
  }
  for (const url of values.rpc) if (!/^https?:\/\//.test(url)) throw usageError(`--rpc ${url} is not an http(s) URL`);
  const anchors = (certificate as { content?: { anchors?: { chainId?: unknown }[] } })?.content?.anchors;
  const chainIds = Array.isArray(anchors) ? anchors.map((a) => a?.chainId).filter((id): id is number => typeof id === 'number') : [];
  const { rpc, uses } = await rpcEndpoints(values.rpc, chainIds, fetch);
  const report = await verifyCertificate({ certificate, file: digests, trustRoots, ...(tsaRoots.length > 0 && { timestampTrustRoots: [...trustRoots, ...tsaRoots] }), rpc, engine: nodeSignatureEngine });
  for (const use of uses) if (use.problem) report.notes.push(`JSON-RPC ${use.url}: ${use.problem}`);
  report.notes.push(`trusted roots: ${trustFiles.join(', ')}`);
  if (tsaRoots.length > 0) report.notes.push(`trusted for the timestamp too: ${values['tsa-trust'].join(', ')}`);
  if (values.rpc.length > 0) report.notes.push(`JSON-RPC: ${values.rpc.join(', ')}`);
  process.stdout.write(values.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report));
  return report.authentic ? EXIT_OK : EXIT_FAILURE;
}

const MARK = { ok: 'ok     ', failed: 'FAILED ', skipped: 'skipped' } as const;

/** The report as people read it: one line per step, then the verdict and the notes. */
export function formatReport(report: VerificationReport): string {
  const lines = report.steps.map((s) => `${MARK[s.status]}  ${s.step.padEnd(14)} ${s.status === 'ok' ? '' : `[${s.code}] `}${s.message}`);
  const subject = report.subject ? ` registration ${report.subject.registrationId} of ${report.subject.center}, period ${report.subject.periodId}` : '';
  lines.push('', report.authentic ? `AUTHENTIC:${subject}` : `NOT AUTHENTIC:${subject || ' the certificate could not be checked'}`);
  for (const note of report.notes) lines.push(`note: ${note}`);
  return lines.join('\n') + '\n';
}
