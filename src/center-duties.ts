import type { DutiesLease } from './store/duties-lease.js';

/** One piece of a center's background work, started and stopped with the lease. */
export interface Duty {
  name: string;
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
  /** Runs at every poll while this process holds the lease (work another process may have left: a seal to finish, a period to timestamp). */
  tick?(): void;
}

/**
 * Starts a center's background work in the one process that holds the duties lease (see
 * DutiesLease), stops it when the lease is lost, and takes the lease over when its holder dies.
 */
export class CenterDuties {
  private readonly duties: Duty[] = [];
  private leading = false;
  private timer: NodeJS.Timeout | undefined;
  private busy: Promise<void> | undefined;
  private ended = false;
  /** Set once the lease was lost while held: this process does no background work again. */
  private lost = false;

  constructor(
    private readonly lease: DutiesLease,
    private readonly options: { pollMs: number; log: (line: string) => void; ticks: boolean },
  ) {}

  /** True while this process does the center's background work. */
  get isLeading(): boolean {
    return this.leading;
  }

  /** Adds a duty; started at once when this process leads. */
  async add(duty: Duty): Promise<void> {
    this.duties.push(duty);
    if (this.leading) await duty.start();
  }

  /** Starts the duties if the lease is (or can be) held now; keeps asking every poll if not. */
  async begin(): Promise<void> {
    if (this.lease.tryAcquire()) await this.startAll();
    else this.options.log('another process does the center\'s background work (sealing, timestamps, anchoring, replication): this one serves requests and takes over if that one stops');
    this.timer = setInterval(() => this.poll(), this.options.pollMs);
    this.timer.unref();
  }

  /** Stops the duties and gives the lease up. */
  async end(): Promise<void> {
    this.ended = true;
    if (this.timer) clearInterval(this.timer);
    await this.busy;
    if (this.leading) await this.stopAll();
    this.lease.release();
  }

  private poll(): void {
    if (this.busy || this.ended) return;
    this.busy = (async () => {
      if (this.leading) {
        if (this.lease.stillHeld()) {
          if (this.options.ticks) for (const d of this.duties) d.tick?.();
          return;
        }
        // Another process takes over; this one stops for good (its chain connections and loops
        // are closed): restart it to have it take part again.
        this.lost = true;
        this.options.log('lost the duties lease (the database connection ended): the background work stops in this process; restart it to take part again');
        await this.stopAll();
        return;
      }
      if (!this.lost && this.lease.tryAcquire()) {
        this.options.log('took over the center\'s background work (the process doing it stopped)');
        await this.startAll();
      }
    })()
      .catch((err: unknown) => this.options.log(`duties: ${(err as Error).message}`))
      .finally(() => (this.busy = undefined));
  }

  private async startAll(): Promise<void> {
    this.leading = true;
    for (const d of this.duties) await d.start();
  }

  private async stopAll(): Promise<void> {
    this.leading = false;
    for (const d of [...this.duties].reverse()) await d.stop();
  }
}
