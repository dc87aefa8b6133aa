import { X509Certificate } from 'node:crypto';
import * as pkijs from 'pkijs';
import { asArrayBufferView } from '../core/certificate-facts.js';
import { renewalImprint } from '../core/evidence-renewal.js';
import { parseSignedData } from '../core/signed-data-check.js';
import type { TimestampAuthority } from '../pki/timestamp-authority.js';
import { insertRenewal, listLastLinks } from '../store/renewals-repository.js';
import type { Store } from '../store/store.js';

/** What a token's renewal depends on: when its signer's certificate expires, and the algorithms it uses. */
export interface TokenFacts {
  signerNotAfter: Date;
  /** OIDs of the imprint's hash, the signer's digest and signature algorithms. */
  algorithms: string[];
}

/** Reads a token's signer certificate expiry and algorithms (the token was verified when it was obtained). */
export function readTokenFacts(token: Uint8Array): TokenFacts {
  const parsed = parseSignedData(token);
  const tstInfo = pkijs.TSTInfo.fromBER(asArrayBufferView(parsed.eContent ?? new Uint8Array()));
  return {
    signerNotAfter: new Date(new X509Certificate(parsed.signerCertificateDer).validTo),
    algorithms: [
      tstInfo.messageImprint.hashAlgorithm.algorithmId,
      parsed.signerInfo.digestAlgorithm.algorithmId,
      parsed.signerInfo.signatureAlgorithm.algorithmId,
    ],
  };
}

export interface PeriodRenewerOptions {
  store: Store;
  tsa: TimestampAuthority;
  /** 'built-in' or the TSA's URL, kept with each renewal. */
  authority: string;
  /** Renew a token whose signer's certificate expires within this many milliseconds. */
  renewBeforeMs: number;
  /** Algorithm OIDs no longer trusted: a token using one is renewed at once. */
  retiredAlgorithms: ReadonlySet<string>;
  /** How often to look (also once at start). */
  checkIntervalMs: number;
  log: (line: string) => void;
  now?: () => Date;
}

/**
 * Evidence renewal (RFC 4998 style, see src/core/evidence-renewal.ts): before the certificate
 * that signed a period's last token expires, or once an algorithm it uses is retired, the center
 * timestamps the root together with that token, and keeps the new token as the next link.
 * Durable: each link is one row written after the TSA answered, under a (period, seq) key, so
 * a crash before the write loses only a token nobody saw (the next run asks again) and a second
 * run, or a second process, cannot add the same link twice. A renewal that would not extend the
 * evidence (the TSA's certificate expires no later than the old one) is not kept, and said so:
 * renew the TSA's certificate first.
 */
export class PeriodRenewer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private readonly now: () => Date;

  constructor(private readonly options: PeriodRenewerOptions) {
    this.now = options.now ?? (() => new Date());
  }

  start(): void {
    this.stopped = false;
    this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Resolves once the current run, if any, is over. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private tick(): void {
    if (this.stopped || this.running) return;
    this.running = this.renewDue()
      .then(
        (n) => {
          if (n > 0) this.options.log(`evidence renewal: ${n} period token(s) renewed`);
        },
        (err: unknown) => this.options.log(`evidence renewal failed (${this.options.authority}): ${(err as Error).message}; next try in ${Math.round(this.options.checkIntervalMs / 1000)} s`),
      )
      .finally(() => {
        this.running = undefined;
        if (!this.stopped) this.timer = setTimeout(() => this.tick(), this.options.checkIntervalMs);
      });
  }

  /** Renews every period whose last link is due; returns how many links were added. */
  async renewDue(): Promise<number> {
    const { store, tsa, renewBeforeMs, retiredAlgorithms } = this.options;
    let renewed = 0;
    for (const link of listLastLinks(store)) {
      const facts = readTokenFacts(link.token);
      const retired = facts.algorithms.filter((oid) => retiredAlgorithms.has(oid));
      const expiring = facts.signerNotAfter.getTime() - renewBeforeMs <= this.now().getTime();
      if (retired.length === 0 && !expiring) continue;
      const reason = retired.length > 0 ? `retired algorithm ${retired.join(', ')}` : `signer certificate expires at ${facts.signerNotAfter.toISOString()}`;
      const result = await tsa.timestamp(renewalImprint(link.root, link.token));
      const next = readTokenFacts(result.token);
      const helps = retired.length > 0 ? next.algorithms.every((oid) => !retiredAlgorithms.has(oid)) : next.signerNotAfter.getTime() > facts.signerNotAfter.getTime();
      if (!helps) {
        const why = `the TSA (${this.options.authority}) signs with a certificate valid until ${next.signerNotAfter.toISOString()}${retired.length > 0 ? ' and retired algorithms' : ''}: renew the TSA's certificate (certs/README.md), or the evidence of periods timestamped before ${facts.signerNotAfter.toISOString()} will no longer verify after it`;
        // The TSA would answer every other period the same way.
        this.options.log(`evidence renewal due but not made: ${why}`);
        break;
      }
      const added = insertRenewal(store, {
        period_id: link.periodId,
        seq: link.seq + 1,
        token: Buffer.from(result.token),
        gen_time: result.genTime.toISOString(),
        tsa: result.tsa,
        serial: result.serial,
        reason,
        authority: this.options.authority,
        created_at: this.now().toISOString(),
      });
      if (added) renewed++;
    }
    return renewed;
  }
}
