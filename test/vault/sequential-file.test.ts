import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SequentialFile } from '../../src/vault/sequential-file.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const MiB = 1024 * 1024;
const disk = makeTempDir();
// tmpfs refuses O_DIRECT on most kernels: there the same code goes through the page cache.
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

  // Empty, under a page, a page, across the 4 MiB stage, exactly two stages, and odd sizes.
  it.each([0, 1, 4000, 4096, 4 * MiB - 96, 4 * MiB, 8 * MiB - 96, 9 * MiB + 12345])('keeps every byte of %i bytes after a 96-byte head', async (n) => {
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

it('goes through the page cache when asked to, or when the file system refuses O_DIRECT', async () => {
  const buffered = await SequentialFile.create(join(disk.path, 'probe-buffered'), { directIo: false });
  expect(buffered.directIo).toBe(false);
  await buffered.finish();
  if (shm) {
    const onTmpfs = await SequentialFile.create(join(shm, 'probe'));
    await onTmpfs.append(randomBytes(10));
    await onTmpfs.finish();
    expect(readFileSync(join(shm, 'probe')).length).toBe(10);
  }
});
