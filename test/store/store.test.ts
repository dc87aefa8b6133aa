import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { Store } from '../../src/store/store.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const dir = makeTempDir();
afterAll(() => dir.remove());

/** Commits `mib` MiB of new pages in one transaction. */
function write(store: Store, mib: number): void {
  store.transaction(() => {
    const insert = store.sqlite.prepare('INSERT INTO filler (data) VALUES (randomblob(65536))');
    for (let i = 0; i < mib * 16; i++) insert.run();
  });
}

function open(name: string, walAutocheckpointPages?: number): { store: Store; file: string } {
  const file = join(dir.path, name);
  const store = Store.openConnection({ file });
  if (walAutocheckpointPages !== undefined) store.setWalAutocheckpoint(walAutocheckpointPages);
  store.sqlite.exec('CREATE TABLE filler (id INTEGER PRIMARY KEY, data BLOB)');
  return { store, file };
}

it("checkpoints the write-ahead log into the database after SQLite's 1,000 pages by default", () => {
  const { store, file } = open('default.sqlite');
  try {
    expect(store.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.sqlite.pragma('synchronous', { simple: true })).toBe(2); // FULL
    write(store, 6);
    expect(statSync(file).size).toBeGreaterThan(6 * 1024 * 1024);
  } finally {
    store.close();
  }
});

it('keeps up to the given number of pages in the log before a commit checkpoints them (the registration writer: 10,000)', () => {
  const { store, file } = open('writer.sqlite', 10_000);
  try {
    expect(store.sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(10_000);
    write(store, 6);
    expect(statSync(file).size).toBeLessThan(1024 * 1024);
    expect(statSync(`${file}-wal`).size).toBeGreaterThan(6 * 1024 * 1024);
    write(store, 36); // past 10,000 pages of 4 KiB
    expect(statSync(file).size).toBeGreaterThan(40 * 1024 * 1024);
  } finally {
    store.close();
  }
});
