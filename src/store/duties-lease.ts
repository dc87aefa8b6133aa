import { PgSyncConnection } from './pg-sync.js';
import { processApplicationName, type Store } from './store.js';

/** "archive-seal duties": the advisory lock whose holder does the center's background work. */
const DUTIES_LOCK = 0x41534455;

/**
 * Which process does a center's background work (the seal schedule, finishing seals,
 * timestamps, renewals, anchoring, replication, audits) when several serve one database.
 *
 * On SQLite one process has the file: it always holds the lease. On PostgreSQL the lease is a
 * session advisory lock held by a connection of its own: when the holding process dies (kill
 * -9 included) its session ends and the server releases the lock, and the next process asking
 * (every few seconds) takes over. The work itself is safe to repeat: a period is sealed once
 * whoever finishes it, and an anchor already on chain is adopted, not sent again.
 */
export class DutiesLease {
  private connection: PgSyncConnection | undefined;
  private held = false;

  constructor(private readonly store: Store) {}

  /** Takes the lease if it is free; true while this process holds it. */
  tryAcquire(): boolean {
    if (this.store.engine !== 'postgres') return (this.held = true);
    if (this.held && this.stillHeld()) return true;
    try {
      this.connection ??= new PgSyncConnection(this.store.url!, { applicationName: processApplicationName() });
      this.held = this.connection.query(`SELECT pg_try_advisory_lock(${DUTIES_LOCK})`, [], true).rows[0] === 1;
    } catch {
      this.dropConnection();
      this.held = false;
    }
    return this.held;
  }

  /** True while the lease's session is alive (a lost connection loses the lease). */
  stillHeld(): boolean {
    if (this.store.engine !== 'postgres') return this.held;
    if (!this.held || !this.connection) return false;
    try {
      this.connection.query('SELECT 1', []);
      return true;
    } catch {
      this.dropConnection();
      return (this.held = false);
    }
  }

  /**
   * How many other processes are connected to the database (0 on SQLite). Start-up clean-ups of
   * the shared vault (unfinished uploads, blobs no registration names yet) run only when it is 0:
   * another process's upload in flight looks exactly like a leftover.
   */
  otherProcesses(): number {
    if (this.store.engine !== 'postgres') return 0;
    return this.store
      .prepare("SELECT count(DISTINCT application_name) FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'archive-seal %' AND application_name <> ?")
      .pluck()
      .get(processApplicationName()) as number;
  }

  /** Gives the lease up (the session ends). */
  release(): void {
    this.held = false;
    this.dropConnection();
  }

  private dropConnection(): void {
    this.connection?.close();
    this.connection = undefined;
  }
}
