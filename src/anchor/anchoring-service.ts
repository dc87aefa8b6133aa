import type { AnchorRow, PeriodRow } from '../store/database.js';
import {
  findLiveAnchor,
  findNextPeriodToAnchor,
  insertAnchor,
  listAnchors,
  listConfirmedAnchors,
  updateAnchor,
} from '../store/anchors-repository.js';
import type { Store } from '../store/store.js';
import { PreservationLog } from '../vault/preservation-log.js';
import type { AnchorChain } from './anchor-chain.js';
import { AnchorError } from './anchor-error.js';
import { ZERO_ROOT } from './anchor-registry.js';

/** Confirmed anchors whose blocks are re-checked on every pass (the full set at start). */
const RECENT_TO_RECHECK = 12;
const MAX_BACKOFF_MS = 60_000;

export interface AnchoringServiceOptions {
  store: Store;
  chains: readonly AnchorChain[];
  log: (line: string) => void;
  /** Pause between passes when nothing failed; default 1 s. */
  pollMs?: number;
  /** A sent transaction the node has forgotten for this long is sent again (same nonce); default 30 s. */
  resendAfterMs?: number;
  /** Raise the `anchoring-failing` alarm once a chain's passes have failed for this long; default 2 min. */
  alarmAfterMs?: number;
  now?: () => Date;
}

/**
 * Anchors every sealed, rooted period on every configured chain, in period order, exactly once.
 *
 * Each pass per chain: re-check that recently confirmed anchors' blocks are still canonical
 * (a reorg, or a local chain that lost its last blocks, marks them `reorged`); then take the
 * oldest period without a confirmed anchor and move it one step: read the contract before
 * sending (a root already there is adopted, never sent twice), record the nonce before the
 * send (a crash between the two is resolved by reading the chain), follow the transaction to
 * its block and count confirmations. Failures back off exponentially, and so does each new
 * attempt after a failed one (so a period gets a few attempt rows, not one per poll); nothing
 * is skipped.
 *
 * A transaction of ours that waits in the node's pool (the hash lost in a crash or a timed-out
 * send) is waited for, never answered with another send: against the node's pending state a
 * second anchor of the period reverts with AnchorRegistryPeriodAlreadyAnchored, which means
 * "wait for the first one", not "failed".
 */
export class AnchoringService {
  private readonly store: Store;
  private readonly chains: readonly AnchorChain[];
  private readonly log: (line: string) => void;
  private readonly pollMs: number;
  private readonly resendAfterMs: number;
  private readonly alarmAfterMs: number;
  /** Raises and clears the `anchoring-failing` alarm (subject: the chain's name), as the vault's alarms. */
  private readonly alarms: PreservationLog;
  private readonly now: () => Date;
  private readonly loops = new Map<
    string,
    {
      timer?: NodeJS.Timeout;
      running?: Promise<void>;
      failures: number;
      /** When the current run of failed passes began. */
      failingSince?: number;
      /** An alarm of this chain may be open (from this run or an earlier one): clear it on success. */
      alarmMaybeOpen: boolean;
      checkedAll: boolean;
      /** The head block's hash when confirmed anchors were last re-checked. */
      checkedAtHead?: string | null;
    }
  >();
  private stopped = true;

  constructor(options: AnchoringServiceOptions) {
    this.store = options.store;
    this.chains = options.chains;
    this.log = options.log;
    this.pollMs = options.pollMs ?? 1000;
    this.resendAfterMs = options.resendAfterMs ?? 30_000;
    this.alarmAfterMs = options.alarmAfterMs ?? 120_000;
    this.now = options.now ?? (() => new Date());
    this.alarms = new PreservationLog(this.store, this.log, 'anchoring service', this.now);
    for (const chain of this.chains) this.loops.set(chain.settings.name, { failures: 0, alarmMaybeOpen: true, checkedAll: false });
  }

  /** The chains anchored to. */
  get configuredChains(): readonly AnchorChain[] {
    return this.chains;
  }

  start(): void {
    this.stopped = false;
    for (const chain of this.chains) this.schedule(chain, 0);
  }

  /** Runs a pass on every chain now (after a seal). */
  nudge(): void {
    if (this.stopped) return;
    for (const chain of this.chains) {
      const loop = this.loops.get(chain.settings.name)!;
      if (!loop.running) this.schedule(chain, 0);
    }
  }

  /** Stops the loops, waits for running passes, closes the chain connections. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const loop of this.loops.values()) {
      if (loop.timer) clearTimeout(loop.timer);
      await loop.running;
    }
    for (const chain of this.chains) chain.close();
  }

  /** Runs passes on `chain` until nothing is left to do or a pass fails (for tests and tools). */
  async settle(chain: AnchorChain = this.chains[0]!, maxPasses = 50): Promise<void> {
    for (let i = 0; i < maxPasses; i++) {
      const progressed = await this.pass(chain);
      if (!progressed) return;
    }
  }

  private schedule(chain: AnchorChain, delayMs: number): void {
    const loop = this.loops.get(chain.settings.name)!;
    if (loop.timer) clearTimeout(loop.timer);
    loop.timer = setTimeout(() => {
      loop.timer = undefined;
      loop.running = this.pass(chain)
        .then(
          (progressed) => {
            loop.failures = 0;
            loop.failingSince = undefined;
            if (loop.alarmMaybeOpen) {
              loop.alarmMaybeOpen = false;
              this.alarms.clear('anchoring-failing', chain.settings.name);
            }
            return progressed ? 0 : this.pollMs;
          },
          (err: unknown) => {
            loop.failures++;
            const now = this.now().getTime();
            loop.failingSince ??= now;
            const wait = Math.min(this.pollMs * 2 ** loop.failures, MAX_BACKOFF_MS);
            const message = (err as Error).message;
            this.log(`anchoring on ${chain.settings.name}: ${message}; retrying in ${Math.round(wait / 1000)} s`);
            // Nothing gets anchored on this chain until staff look (a node down, an embedded
            // chain that died, an empty account): say so where they look, not only in the log.
            if (now - loop.failingSince >= this.alarmAfterMs) {
              loop.alarmMaybeOpen = true;
              const since = new Date(loop.failingSince).toISOString();
              this.alarms.raise('anchoring-failing', chain.settings.name, `anchoring on ${chain.settings.name} has failed since ${since}: ${message}`);
            }
            return wait;
          },
        )
        .then((wait) => {
          loop.running = undefined;
          if (!this.stopped) this.schedule(chain, wait);
        });
    }, delayMs);
  }

  /** One step on one chain; true when it changed something (so the next pass comes at once). */
  async pass(chain: AnchorChain): Promise<boolean> {
    const loop = this.loops.get(chain.settings.name)!;
    // A confirmed anchor can leave the chain only when the chain's head changes: an idle center
    // asks a (perhaps public, rate-limited) node for the head, not for every anchored block.
    const head = await chain.blockHashAt(await chain.headNumber());
    let reorged = false;
    if (!loop.checkedAll || head !== loop.checkedAtHead) {
      reorged = await this.recheckConfirmed(chain, loop.checkedAll ? RECENT_TO_RECHECK : Number.MAX_SAFE_INTEGER);
      loop.checkedAll = true;
      loop.checkedAtHead = head;
    }
    const period = findNextPeriodToAnchor(this.store, chain.settings.name);
    if (!period) return reorged;
    const live = findLiveAnchor(this.store, period.id, chain.settings.name);
    if (live?.status === 'failed' && this.now().getTime() - Date.parse(live.updated_at) < this.retryDelayMs(period.id, chain)) {
      return reorged;
    }
    if (!live || live.status === 'failed') return (await this.begin(chain, period)) || reorged;
    return (await this.follow(chain, period, live)) || reorged;
  }

  /** How long after a failed attempt the next one starts: doubling with each failed attempt. */
  private retryDelayMs(periodId: number, chain: AnchorChain): number {
    const failed = listAnchors(this.store, periodId).filter((a) => a.chain === chain.settings.name && a.status === 'failed').length;
    return Math.min(this.pollMs * 2 ** Math.max(0, failed - 1), MAX_BACKOFF_MS);
  }

  /** Marks confirmed anchors whose block left the canonical chain, or whose root is gone. */
  private async recheckConfirmed(chain: AnchorChain, limit: number): Promise<boolean> {
    const confirmed = listConfirmedAnchors(this.store, chain.settings.name, limit);
    let changed = false;
    for (const anchor of confirmed) {
      const canonical = await chain.blockHashAt(anchor.block_number!);
      if (canonical === anchor.block_hash) continue;
      this.log(
        `period ${anchor.period_id} on ${chain.settings.name}: block ${anchor.block_number} ${anchor.block_hash} is no longer in the chain; anchoring again`,
      );
      updateAnchor(this.store, anchor.id, { status: 'reorged', last_error: `block ${anchor.block_hash} left the chain` }, this.stamp());
      changed = true;
    }
    return changed;
  }

  /** Starts anchoring `period`: adopts what the contract already holds, else sends. */
  private async begin(chain: AnchorChain, period: PeriodRow): Promise<boolean> {
    const root = hex(period.root!);
    const onChain = await chain.rootOf(period.id);
    if (onChain === root) return this.adopt(chain, period);
    if (onChain !== ZERO_ROOT) {
      throw new AnchorError('CONTRACT_REVERTED', `the contract holds another root for period ${period.id} (${onChain}); refusing to continue`);
    }
    const previous = hex(period.previous_root!);
    const last = await chain.lastRoot();
    if (last !== previous) {
      // The contract's history is not ours up to here. If an earlier period's anchor vanished
      // (lost blocks), the re-check marks it and it is sent again first; otherwise stop.
      const latest = await chain.latestPeriod();
      throw new AnchorError(
        'PREVIOUS_ROOT_MISMATCH',
        `period ${period.id} needs previous root ${previous} on chain, the contract's last is ${last} (period ${latest})`,
      );
    }
    const { pending } = await chain.nonces();
    // Write-ahead: the nonce is recorded before the send, so a crash in between is resolved
    // from the chain (the root is there, or the nonce is still free) instead of sending twice.
    const row = insertAnchor(this.store, {
      periodId: period.id,
      chain: chain.settings.name,
      chainId: chain.settings.chainId,
      contract: chain.settings.contract,
      nonce: pending,
      now: this.stamp(),
    });
    await this.send(chain, period, row, pending);
    return true;
  }

  private async send(chain: AnchorChain, period: PeriodRow, row: AnchorRow, nonce: number): Promise<void> {
    try {
      const txHash = await chain.sendAnchor(period.id, hex(period.root!), hex(period.previous_root!), nonce);
      updateAnchor(this.store, row.id, { status: 'sent', tx_hash: txHash, attempts: row.attempts + 1, last_error: null }, this.stamp());
      this.log(`period ${period.id} sent to ${chain.settings.name}: tx ${txHash} (nonce ${nonce})`);
    } catch (err) {
      if (err instanceof AnchorError && err.code === 'PERIOD_ALREADY_ANCHORED') {
        // The node simulated the call on its pending state, where the period is anchored: by a
        // transaction of ours not mined yet (its hash lost in a crash, or a send that timed out
        // after the node took it). Not a failure: this attempt stays open, and once that
        // transaction is mined the contract holds the root and `follow` adopts it.
        updateAnchor(this.store, row.id, { attempts: row.attempts + 1, last_error: err.message }, this.stamp());
        throw new AnchorError('PERIOD_ALREADY_ANCHORED', `period ${period.id} is anchored by a transaction not mined yet (${err.message}); waiting for it`, {
          cause: err,
        });
      }
      if (err instanceof AnchorError && ['NONCE_CONFLICT', 'PREVIOUS_ROOT_MISMATCH'].includes(err.code)) {
        // The chain moved under us; the next pass reads it again and decides.
        updateAnchor(this.store, row.id, { status: 'failed', attempts: row.attempts + 1, last_error: err.message }, this.stamp());
        return;
      }
      updateAnchor(this.store, row.id, { attempts: row.attempts + 1, last_error: (err as Error).message }, this.stamp());
      throw err;
    }
  }

  /** The contract already holds our root (a crash after sending, or a re-mined transaction). */
  private async adopt(chain: AnchorChain, period: PeriodRow): Promise<boolean> {
    const event = await chain.findAnchorEvent(period.id);
    if (!event) throw new AnchorError('RPC_ERROR', `period ${period.id} is in the contract but its event was not found`);
    const live = findLiveAnchor(this.store, period.id, chain.settings.name);
    const stamp = this.stamp();
    const row =
      live && live.status !== 'failed'
        ? live
        : insertAnchor(this.store, {
            periodId: period.id,
            chain: chain.settings.name,
            chainId: chain.settings.chainId,
            contract: chain.settings.contract,
            nonce: null,
            now: stamp,
          });
    updateAnchor(this.store, row.id, { status: 'sent', tx_hash: event.txHash, last_error: null }, stamp);
    return this.follow(chain, period, { ...row, status: 'sent', tx_hash: event.txHash });
  }

  /** Follows a sent (or possibly sent) transaction to its block and its confirmations. */
  private async follow(chain: AnchorChain, period: PeriodRow, row: AnchorRow): Promise<boolean> {
    if (!row.tx_hash) {
      // Crashed (or failed) between recording the nonce and learning the hash. The nonces are
      // read first: once they show the nonce used, the root read after them shows whether it
      // was this anchor (read the other way round, a block mined in between looks like a
      // stranger taking the nonce).
      const { latest, pending } = await chain.nonces();
      if ((await chain.rootOf(period.id)) === hex(period.root!)) return this.adopt(chain, period);
      if (row.nonce !== null && latest <= row.nonce && pending > row.nonce) {
        // A transaction with this nonce waits in the node's pool: most likely the one this
        // attempt sent before the crash. Sending again would be refused; wait until it is mined
        // (its root is then in the contract, or the nonce was another transaction's) or dropped
        // (the nonce is free again).
        const waiting = `waiting for the pending transaction with nonce ${row.nonce}`;
        if (row.last_error !== waiting) updateAnchor(this.store, row.id, { last_error: waiting }, this.stamp());
        return false;
      }
      if (row.nonce !== null && latest <= row.nonce) {
        await this.send(chain, period, row, row.nonce);
        return true;
      }
      updateAnchor(this.store, row.id, { status: 'failed', last_error: `nonce ${row.nonce} used by another transaction` }, this.stamp());
      return true;
    }
    const mined = await chain.minedTransaction(row.tx_hash);
    if (!mined) {
      const age = this.now().getTime() - Date.parse(row.updated_at);
      if (age < this.resendAfterMs || (await chain.knowsTransaction(row.tx_hash))) return false;
      // Dropped from the node: the same nonce again (it can be mined only once). Nonces before
      // the root, as above.
      const { latest } = await chain.nonces();
      if ((await chain.rootOf(period.id)) === hex(period.root!)) return this.adopt(chain, period);
      if (row.nonce !== null && latest <= row.nonce) await this.send(chain, period, row, row.nonce);
      else updateAnchor(this.store, row.id, { status: 'failed', last_error: `transaction ${row.tx_hash} dropped` }, this.stamp());
      return true;
    }
    if (mined.status !== 1) {
      updateAnchor(this.store, row.id, { status: 'failed', last_error: `transaction ${row.tx_hash} reverted` }, this.stamp());
      return true;
    }
    const head = await chain.headNumber();
    const confirmations = Math.max(0, head - mined.blockNumber + 1);
    const blockTime = row.block_hash === mined.blockHash && row.block_time ? row.block_time : (await chain.blockTime(mined.blockHash)).toISOString();
    const done = confirmations >= chain.settings.confirmations;
    const changed = row.block_hash !== mined.blockHash || row.confirmations !== confirmations || done;
    if (changed) {
      updateAnchor(
        this.store,
        row.id,
        {
          status: done ? 'confirmed' : 'sent',
          block_number: mined.blockNumber,
          block_hash: mined.blockHash,
          block_time: blockTime,
          confirmations,
        },
        this.stamp(),
      );
    }
    if (done) this.log(`period ${period.id} anchored on ${chain.settings.name}: block ${mined.blockNumber}, ${confirmations} confirmation(s)`);
    return done;
  }

  private stamp(): string {
    return this.now().toISOString();
  }
}

function hex(bytes: Buffer): string {
  return `0x${bytes.toString('hex')}`;
}
