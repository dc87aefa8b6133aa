import { ApiClient } from './api-client.js';
import { usageError } from './cli-error.js';

/** Flags every command that talks to a running center accepts. */
export const CONNECTION_OPTIONS = {
  server: { type: 'string' },
  token: { type: 'string' },
} as const;

/** The client for `--server`/`--token`, falling back to ARCHIVE_SEAL_SERVER/ARCHIVE_SEAL_TOKEN. */
export function connect(
  values: { server?: string | undefined; token?: string | undefined },
  env: Readonly<Record<string, string | undefined>>,
  options: { needsToken: boolean },
): ApiClient {
  const server = values.server ?? env.ARCHIVE_SEAL_SERVER ?? 'http://127.0.0.1:8080';
  try {
    const url = new URL(server);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
  } catch {
    throw usageError(`--server ${server} is not an http(s) URL`);
  }
  const token = values.token ?? env.ARCHIVE_SEAL_TOKEN;
  if (options.needsToken && !token) {
    throw usageError('a token is needed: --token TOKEN or ARCHIVE_SEAL_TOKEN (see `archive-seal tokens create`)');
  }
  return new ApiClient(server, token);
}
