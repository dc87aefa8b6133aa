/**
 * Callers waiting for answers that come back in the order the calls were sent, by sequence
 * number: an array read from the front, not a Map.
 *
 * A Map that keeps taking and dropping entries slows the whole process down. Each time V8 rebuilds
 * a Map's hash table, the old table keeps a link to the new one (for iterators). Once one of these
 * tables has been moved to the old generation, the dead table keeps its successor alive through
 * every young-generation GC. The successor then keeps the next one, and every table keeps what
 * its entries reached: the callers' promises and the answers they were resolved with. So every
 * answer is promoted, and the old generation fills with garbage until the next full GC.
 * Measured: with a Map, 4 single-route runs of 5 promoted 1.6-1.8 MB per scavenge and ran a
 * mark-compact every 2.5 s; with this queue, 5 of 5 promoted about 50 KB (see
 * docs/benchmarks.md).
 */
export class WaitingQueue<T> {
  private entries: ({ seq: number; value: T } | undefined)[] = [];
  private head = 0;

  get size(): number {
    return this.entries.length - this.head;
  }

  /** Adds the caller of `seq`, which must be larger than any before it. */
  push(seq: number, value: T): void {
    const last = this.entries[this.entries.length - 1];
    if (last !== undefined && last.seq >= seq) throw new Error(`sequence ${seq} pushed after ${last.seq}`);
    this.entries.push({ seq, value });
  }

  /** Takes the caller of `seq` if it is the oldest one waiting; undefined if it is not. */
  take(seq: number): T | undefined {
    const first = this.entries[this.head];
    if (first === undefined || first.seq !== seq) return undefined;
    this.entries[this.head++] = undefined;
    if (this.head === this.entries.length) {
      this.entries = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.entries.length) {
      // Drop the taken front now and then, so that the array does not grow without end.
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    return first.value;
  }

  /** Takes every caller still waiting, oldest first. */
  drain(): T[] {
    const values = this.entries.slice(this.head).map((e) => e!.value);
    this.entries = [];
    this.head = 0;
    return values;
  }
}
