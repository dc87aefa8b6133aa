import type { TimestampAuthority } from '../pki/timestamp-authority.js';
import { findPeriodsWithoutTimestamp, insertPeriodTimestamp } from '../store/anchors-repository.js';
import type { PeriodRow } from '../store/database.js';
import type { Store } from '../store/store.js';

const MAX_BACKOFF_MS = 60_000;

/**
 * Gets an RFC 3161 token over every sealed, rooted period's root (the message imprint is the
 * SHA-256 root itself) from the configured TSA, and keeps it with the period. A TSA that fails
 * is asked again with back-off; periods are taken oldest first and none is skipped.
 */
export class PeriodTimestamper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private failures = 0;
  private stopped = true;

  constructor(
    private readonly store: Store,
    private readonly tsa: TimestampAuthority,
    /** 'built-in' or the TSA's URL, kept with each token. */
    private readonly authority: string,
    private readonly log: (line: string) => void,
  ) {}

  start(): void {
    this.stopped = false;
    this.nudge();
  }

  /** Timestamps what is pending now (after a seal). */
  nudge(): void {
    if (this.stopped || this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.running = this.timestampPending().then(
      () => {
        this.failures = 0;
        this.running = undefined;
      },
      (err: unknown) => {
        this.running = undefined;
        this.failures++;
        const wait = Math.min(1000 * 2 ** this.failures, MAX_BACKOFF_MS);
        this.log(`timestamping failed (${this.authority}): ${(err as Error).message}; retrying in ${Math.round(wait / 1000)} s`);
        if (!this.stopped) this.timer = setTimeout(() => this.nudge(), wait);
      },
    );
  }

  /** Resolves once nothing is pending or a request failed. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /**
   * Timestamps every period that lacks a token, oldest first, including periods sealed while it
   * runs (a nudge during a run finds it busy and relies on this).
   */
  async timestampPending(): Promise<number> {
    let done = 0;
    for (let pending = findPeriodsWithoutTimestamp(this.store); pending.length > 0; pending = findPeriodsWithoutTimestamp(this.store)) {
      done += await this.timestampEach(pending);
    }
    return done;
  }

  private async timestampEach(periods: readonly PeriodRow[]): Promise<number> {
    let done = 0;
    for (const period of periods) {
      const result = await this.tsa.timestamp(period.root!);
      insertPeriodTimestamp(this.store, {
        period_id: period.id,
        token: Buffer.from(result.token),
        gen_time: result.genTime.toISOString(),
        tsa: result.tsa,
        serial: result.serial,
        authority: this.authority,
        created_at: new Date().toISOString(),
      });
      done++;
    }
    return done;
  }
}
