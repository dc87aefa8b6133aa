import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { DEVELOPMENT_TSA_POLICY_OID } from '../../src/core/development-marker.js';
import { makeCenterPki, writePkiSet } from '../../src/pki/key-management.js';
import { makeTestCenter, type TestCenter } from '../helpers/test-center.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// The built-in TSA of a center with its own keys never stamps with the development policy,
// which would mark every token "not evidence": ARCHIVE_SEAL_TSA_POLICY_OID names the policy,
// and without it one is derived from the TSA certificate. Read back with openssl.
const dir = makeTempDir();
afterAll(() => dir.remove());
const pkiDir = join(dir.path, 'pki');
writePkiSet(pkiDir, makeCenterPki({ centerName: '衢州市档案馆电子文件登记备份中心' }));
const NAME = { ARCHIVE_SEAL_CENTER_NAME: '衢州市档案馆电子文件登记备份中心' };

/** The policy OID of a token the center's POST /tsa issues, as `openssl ts -reply -text` prints it. */
async function stampedPolicy(center: TestCenter): Promise<string> {
  const data = join(dir.path, `data-${randomBytes(4).toString('hex')}`);
  writeFileSync(data, randomBytes(64));
  const query = execFileSync('openssl', ['ts', '-query', '-data', data, '-sha256', '-cert']);
  const res = await center.app.request('/tsa', { method: 'POST', headers: { 'content-type': 'application/timestamp-query' }, body: new Uint8Array(query) });
  expect(res.status).toBe(200);
  const reply = `${data}.tsr`;
  writeFileSync(reply, Buffer.from(await res.arrayBuffer()));
  const text = execFileSync('openssl', ['ts', '-reply', '-in', reply, '-text'], { encoding: 'utf8' });
  return /Policy OID: (\S+)/.exec(text)![1]!;
}

describe('the built-in TSA policy', () => {
  it('with a real PKI and no setting: a 2.25 OID derived from the TSA certificate, never the development one', async () => {
    const center = await makeTestCenter({ ARCHIVE_SEAL_PKI_DIR: pkiDir, ...NAME });
    try {
      const policy = await stampedPolicy(center);
      expect(policy).toMatch(/^2\.25\.\d+$/);
      expect(policy).not.toBe(DEVELOPMENT_TSA_POLICY_OID);
      expect(center.logs.join('\n')).toContain(`built-in TSA policy ${policy}, derived from the TSA certificate`);
    } finally {
      await center.destroy();
    }
  });

  it('ARCHIVE_SEAL_TSA_POLICY_OID sets it', async () => {
    const center = await makeTestCenter({ ARCHIVE_SEAL_PKI_DIR: pkiDir, ...NAME, ARCHIVE_SEAL_TSA_POLICY_OID: '1.2.156.112562.7.1' });
    try {
      expect(await stampedPolicy(center)).toBe('1.2.156.112562.7.1');
    } finally {
      await center.destroy();
    }
  });

  it('a development policy with a real PKI is refused at start; a malformed OID is a configuration error', async () => {
    await expect(makeTestCenter({ ARCHIVE_SEAL_PKI_DIR: pkiDir, ...NAME, ARCHIVE_SEAL_TSA_POLICY_OID: DEVELOPMENT_TSA_POLICY_OID })).rejects.toThrow(/ARCHIVE_SEAL_TSA_POLICY_OID: .*development TSA policy/);
    expect(() => loadConfig({ ARCHIVE_SEAL_TSA_POLICY_OID: 'policy-1' })).toThrow(/ARCHIVE_SEAL_TSA_POLICY_OID=policy-1: expected an object identifier/);
  });

  it('the development PKI keeps the development policy', async () => {
    const center = await makeTestCenter();
    try {
      expect(await stampedPolicy(center)).toBe(DEVELOPMENT_TSA_POLICY_OID);
    } finally {
      await center.destroy();
    }
  });
});
