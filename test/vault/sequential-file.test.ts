import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.js';
import { SequentialFile } from '../../src/vault/sequential-file.js';
import { Vault } from '../../src/vault/vault.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const MiB = 1024 * 1024;
const disk = makeTempDir();
// tmpfs: O_DIRECT is accepted since Linux 6.6, refused before.
const shm = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/archive-seal-test-') : undefined;
afterAll(() => {
  disk.remove();
  if (shm) rmSync(shm, { recursive: true, force: true });
});

/** Writes `data` after a `reserve`-byte head in chunks of `chunk` bytes; returns what is on disk and the mode. */
async function writeThrough(dir: string, directIo: boolean, name: string, data: Buffer, reserve: number, chunk: number) {
  const path = join(dir, name);
  const file = await SequentialFile.create(path, { reserve, directIo });
  for (let i = 0; i < data.length; i += chunk) await file.append(data.subarray(i, i + chunk));
  const head = Buffer.alloc(reserve, 0xab);
  const size = await file.finish(head);
  return { size, bytes: readFileSync(path), direct: file.directIo, mode: statSync(path).mode & 0o777 };
}

const places: [string, string, boolean][] = [
  ['the data disk, O_DIRECT where allowed', join(disk.path, 'direct'), true],
  ['the data disk, through the page cache', join(disk.path, 'buffered'), false],
  ...(shm ? [['tmpfs (/dev/shm)', shm, true] as [string, string, boolean]] : []),
];
describe.each(places)('SequentialFile on %s', (_, dir, directIo) => {
  beforeAll(() => mkdirSync(dir, { recursive: true }));

  // Empty, under a page, a page, across the 4 MiB stage, exactly two stages, odd sizes, and past
  // two of the syncs made every 64 MiB while writing.
  it.each([0, 1, 4000, 4096, 4 * MiB - 96, 4 * MiB, 8 * MiB - 96, 9 * MiB + 12345, 130 * MiB + 777])('keeps every byte of %i bytes after a 96-byte head', async (n) => {
    const data = randomBytes(n);
    const { size, bytes, mode } = await writeThrough(dir, directIo, `f-${n}`, data, 96, 65_537);
    expect(size).toBe(96 + n);
    expect(bytes.length).toBe(96 + n);
    expect(bytes.subarray(0, 96).equals(Buffer.alloc(96, 0xab))).toBe(true);
    expect(bytes.subarray(96).equals(data)).toBe(true);
    expect(mode).toBe(0o600);
  });

  it('writes a file without a head byte for byte (a peer copy)', async () => {
    const data = randomBytes(5 * MiB + 3);
    const { size, bytes } = await writeThrough(dir, directIo, 'plain', data, 0, 1 << 20);
    expect(size).toBe(data.length);
    expect(bytes.equals(data)).toBe(true);
  });

  it('refuses to overwrite an existing file', async () => {
    const path = join(dir, 'taken');
    writeFileSync(path, 'kept');
    await expect(SequentialFile.create(path)).rejects.toMatchObject({ code: 'EEXIST' });
    expect(readFileSync(path, 'utf8')).toBe('kept');
  });

  it('refuses a head of the wrong length', async () => {
    const file = await SequentialFile.create(join(dir, 'head'), { reserve: 96 });
    await expect(file.finish(Buffer.alloc(10))).rejects.toThrow(/not the 96 reserved/);
    await file.abort();
  });
});

it('starts a file with zeros where its head goes, also in staging memory an earlier file used', async () => {
  const first = await SequentialFile.create(join(disk.path, 'reuse-1'), { reserve: 96 });
  await first.append(Buffer.alloc(9 * MiB, 0xee));
  await first.finish(Buffer.alloc(96, 0xab));
  const second = await SequentialFile.create(join(disk.path, 'reuse-2'), { reserve: 96 });
  await second.append(randomBytes(8 * MiB)); // the first stage goes to disk before the head is known
  expect(readFileSync(join(disk.path, 'reuse-2')).subarray(0, 96).equals(Buffer.alloc(96))).toBe(true);
  await second.abort();
});

it('goes through the page cache when asked to', async () => {
  const buffered = await SequentialFile.create(join(disk.path, 'probe-buffered'), { directIo: false });
  expect(buffered.directIo).toBe(false);
  await buffered.append(randomBytes(10));
  expect(await buffered.finish()).toBe(10);
});

// Real file systems that misbehave: ramfs refuses O_DIRECT (after creating the file); a small
// tmpfs runs out of space. Mounting needs root, which CI has; elsewhere these say why they skip.
const mounts: string[] = [];
function mountScratch(type: 'ramfs' | 'tmpfs', options?: string): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), `archive-seal-${type}-`));
  const mounted = spawnSync('mount', ['-t', type, ...(options ? ['-o', options] : []), type, dir], { encoding: 'utf8' });
  if (mounted.status !== 0) {
    console.warn(`cannot mount ${type} (${mounted.stderr.trim() || mounted.error?.message}): its test is skipped`);
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  mounts.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of mounts) {
    spawnSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  }
});
const ramfs = mountScratch('ramfs');
const smallTmpfs = mountScratch('tmpfs', 'size=6m');

it.skipIf(!ramfs)('writes through the page cache where the file system refuses O_DIRECT', async () => {
  const data = randomBytes(5 * MiB + 7);
  const { size, bytes, direct } = await writeThrough(ramfs!, true, 'refused', data, 96, 1 << 20);
  expect(direct).toBe(false);
  expect(size).toBe(96 + data.length);
  expect(bytes.subarray(96).equals(data)).toBe(true);
});

it.skipIf(!smallTmpfs)('fails a write on a full disk with ENOSPC, without taking the process down', async () => {
  const file = await SequentialFile.create(join(smallTmpfs!, 'too-big'));
  const writing = (async () => {
    // The failing write runs while the caller is busy elsewhere (here: between appends).
    for (let i = 0; i < 12; i++) {
      await file.append(randomBytes(MiB));
      await new Promise((r) => setTimeout(r, 5));
    }
    await file.finish();
  })();
  await expect(writing).rejects.toMatchObject({ code: 'ENOSPC' });
  await file.abort();
});

it.skipIf(!smallTmpfs)('leaves no temporary file behind when the vault runs out of space', async () => {
  const store = await Store.open({ file: join(disk.path, 'vault.sqlite') });
  const root = join(smallTmpfs!, 'blobs');
  const vault = new Vault({ root, store, masterKey: Vault.loadMasterKey(store, join(disk.path, 'master.key')) });
  try {
    await expect(vault.ingest(Readable.from([randomBytes(4 * MiB), randomBytes(4 * MiB)]), { maxBytes: 1 << 30 })).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
  } finally {
    await vault.close();
    store.close();
  }
});
