import { describe, expect, it } from 'vitest';
import { WaitingQueue } from '../../src/registry/waiting-queue.js';

describe('WaitingQueue', () => {
  it('gives callers back in the order they were sent', () => {
    const q = new WaitingQueue<string>();
    q.push(1, 'a');
    q.push(2, 'b');
    q.push(5, 'c');
    expect(q.size).toBe(3);
    expect(q.take(1)).toBe('a');
    expect(q.take(2)).toBe('b');
    expect(q.size).toBe(1);
    expect(q.take(5)).toBe('c');
    expect(q.size).toBe(0);
  });

  it('gives nothing for a sequence that is not the oldest waiting, and keeps it', () => {
    const q = new WaitingQueue<string>();
    q.push(1, 'a');
    q.push(2, 'b');
    expect(q.take(2)).toBeUndefined();
    expect(q.take(7)).toBeUndefined();
    expect(q.take(1)).toBe('a');
    expect(q.take(1)).toBeUndefined();
    expect(q.take(2)).toBe('b');
    expect(q.take(3)).toBeUndefined();
  });

  it('refuses a sequence number that does not grow', () => {
    const q = new WaitingQueue<string>();
    q.push(3, 'a');
    expect(() => q.push(3, 'b')).toThrow(/sequence 3 pushed after 3/);
    expect(() => q.push(2, 'b')).toThrow(/sequence 2 pushed after 3/);
  });

  it('keeps order across many calls with a few always waiting (as under load)', () => {
    const q = new WaitingQueue<number>();
    let sent = 0;
    let answered = 0;
    for (let round = 0; round < 5_000; round++) {
      for (let i = 0; i < 3; i++) q.push(++sent, sent * 10);
      while (q.size > 50) {
        answered++;
        expect(q.take(answered)).toBe(answered * 10);
      }
    }
    expect(q.size).toBe(50);
    expect(q.drain()).toEqual(Array.from({ length: 50 }, (_, i) => (answered + 1 + i) * 10));
    expect(q.size).toBe(0);
    q.push(sent + 1, 1);
    expect(q.take(sent + 1)).toBe(1);
  });
});
