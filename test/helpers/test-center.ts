import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { issueToken } from '../../src/people/access-tokens.js';
import { buildCenter, type Center } from '../../src/server.js';
import type { Role } from '../../src/store/database.js';
import { makeTempDir } from './temp-dir.js';
import { dropTestDatabase, testDatabaseUrlFor } from './test-database.js';

/** An in-process center over a temporary data directory, for `app.request()` tests. */
export interface TestCenter extends Center {
  dataDir: string;
  /** The center's PostgreSQL database when the tests run on PostgreSQL. */
  databaseUrl: string | undefined;
  adminToken: string;
  logs: string[];
  tokenFor(name: string, role: Role, pseudonymous?: boolean): string;
  request(method: string, path: string, options?: { token?: string; json?: unknown; body?: BodyInit; headers?: Record<string, string> }): Promise<{ status: number; body: any; headers: Headers }>;
  destroy(): Promise<void>;
}

export async function makeTestCenter(env: Record<string, string> = {}): Promise<TestCenter> {
  const dir = makeTempDir();
  const logs: string[] = [];
  const databaseUrl = env.ARCHIVE_SEAL_DATABASE_URL === undefined ? await testDatabaseUrlFor(dir.path) : undefined;
  const config = loadConfig({
    ARCHIVE_SEAL_DATA_DIR: dir.path,
    ARCHIVE_SEAL_SEAL_SCHEDULE: 'off',
    ARCHIVE_SEAL_CHAINS: 'none',
    ...(databaseUrl !== undefined && { ARCHIVE_SEAL_DATABASE_URL: databaseUrl }),
    ...env,
  });
  const center = await buildCenter(config, (line) => logs.push(line));
  const adminToken = readFileSync(join(dir.path, 'admin-token.txt'), 'utf8').trim();
  return {
    ...center,
    dataDir: dir.path,
    databaseUrl: config.databaseUrl,
    adminToken,
    logs,
    tokenFor: (name, role, pseudonymous = false) => issueToken(center.store, { name, role, pseudonymous }).token,
    async request(method, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      let body = options.body;
      if (options.json !== undefined) {
        headers['content-type'] ??= 'application/json';
        body = typeof options.json === 'string' ? options.json : JSON.stringify(options.json);
      }
      const res = await center.app.request(path, { method, headers, ...(body !== undefined && { body }) });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
    async destroy() {
      await center.close();
      if (databaseUrl !== undefined) await dropTestDatabase(dir.path);
      dir.remove();
    },
  };
}
