import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { syncPath, writeFileDurably } from '../../src/durable-files.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const dir = makeTempDir();
afterAll(() => dir.remove());

it('replaces a file with new content, owner-only, leaving no temporary file', async () => {
  const path = join(dir.path, 'state.json');
  await writeFileDurably(path, '{"v":1}');
  await writeFileDurably(path, Buffer.from('{"v":2}'));
  expect(readFileSync(path, 'utf8')).toBe('{"v":2}');
  expect(statSync(path).mode & 0o777).toBe(0o600);
  expect(readdirSync(dir.path)).toEqual(['state.json']);
});

it('fails when the file cannot be put in place, and leaves nothing behind', async () => {
  // A directory in the way: the rename fails after the temporary file was written.
  const blocked = join(dir.path, 'blocked');
  mkdirSync(blocked);
  writeFileSync(join(blocked, 'inside'), 'keep');
  await expect(writeFileDurably(blocked, 'new')).rejects.toMatchObject({ code: expect.stringMatching(/EISDIR|ENOTEMPTY|EEXIST/) });
  expect(readdirSync(dir.path).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  expect(readFileSync(join(blocked, 'inside'), 'utf8')).toBe('keep');
});

it('syncs a file or directory; a missing one is an error unless it may be missing', async () => {
  await syncPath(dir.path);
  await expect(syncPath(join(dir.path, 'nothing'))).rejects.toMatchObject({ code: 'ENOENT' });
  await syncPath(join(dir.path, 'nothing'), { missingOk: true });
});
