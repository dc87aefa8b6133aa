import type { PeriodSealer } from './period-sealer.js';
import { RegistryError } from './registry-error.js';
import { nextSealTime, type SealSchedule } from './seal-schedule.js';

const MAX_TIMER_MS = 2 ** 31 - 1; // setTimeout's limit (~24.8 days)

/**
 * Closes periods on the schedule. At start it first catches up: if a closing time passed while
 * the service was down, the open period is sealed at once rather than stretched over days.
 */
export class SealScheduler {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly sealer: PeriodSealer,
    private readonly schedule: SealSchedule,
    private readonly log: (line: string) => void,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Starts the timer; seals at once when the open period should already have closed. */
  start(openedAt: Date): void {
    const due = nextSealTime(this.schedule, openedAt);
    if (due && due.getTime() <= this.now().getTime()) void this.fire();
    else this.arm();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private arm(): void {
    if (this.stopped) return;
    const due = nextSealTime(this.schedule, this.now());
    if (!due) return;
    const wait = Math.min(Math.max(due.getTime() - this.now().getTime(), 0), MAX_TIMER_MS);
    this.timer = setTimeout(() => {
      if (due.getTime() > this.now().getTime()) this.arm(); // a long wait was cut by the timer limit
      else void this.fire();
    }, wait);
  }

  private async fire(): Promise<void> {
    try {
      const period = await this.sealer.seal({ allowEmpty: true });
      this.log(`period ${period.id} sealed on schedule: ${period.leaf_count} registrations`);
    } catch (err) {
      if (err instanceof RegistryError && err.code === 'SEAL_IN_PROGRESS') {
        this.log('scheduled seal skipped: a seal was already running');
      } else {
        this.log(`scheduled seal failed: ${(err as Error).message}`);
      }
    } finally {
      this.arm();
    }
  }
}
