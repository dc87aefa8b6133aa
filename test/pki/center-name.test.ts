import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { makeCenterPki, writePkiSet } from '../../src/pki/key-management.js';
import { makeTestCenter } from '../helpers/test-center.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// Every certificate names its issuer: with a real PKI the development default, which says
// "not for evidence", must not be it.
const dir = makeTempDir();
afterAll(() => dir.remove());
const pkiDir = join(dir.path, 'pki');
writePkiSet(pkiDir, makeCenterPki({ centerName: '衢州市档案馆电子文件登记备份中心' }));

it('refuses to start with a real PKI on the default center name, and starts once it is set', async () => {
  await expect(makeTestCenter({ ARCHIVE_SEAL_PKI_DIR: pkiDir })).rejects.toThrow(
    'ARCHIVE_SEAL_CENTER_NAME is not set: the default name says "development center (not for evidence)", which certificates signed with a real PKI must not carry',
  );
  const center = await makeTestCenter({ ARCHIVE_SEAL_PKI_DIR: pkiDir, ARCHIVE_SEAL_CENTER_NAME: '衢州市档案馆电子文件登记备份中心' });
  try {
    expect(center.pki.isDevelopment).toBe(false);
    expect(center.logs.join('\n')).not.toContain('DEVELOPMENT PKI');
  } finally {
    await center.destroy();
  }
});
