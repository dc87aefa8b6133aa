import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/server-process.js';

// Bad usage is exit 2 with its message on stderr, decided before anything is sent: a stand-in
// center counts the requests that reach it and answers every one 404 NOT_FOUND.
let center: Server;
let requests: string[] = [];
let env: Record<string, string>;

beforeAll(async () => {
  center = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'no such registration' } }));
  });
  await new Promise<void>((resolve) => center.listen(0, '127.0.0.1', resolve));
  env = { ARCHIVE_SEAL_SERVER: `http://127.0.0.1:${(center.address() as AddressInfo).port}`, ARCHIVE_SEAL_TOKEN: 'as_' + 'x'.repeat(43) };
});
afterAll(async () => {
  await new Promise((resolve) => center.close(resolve));
});

describe('usage', () => {
  it('without arguments: the usage on stderr, nothing on stdout, exit 2', async () => {
    const run = await runCli([]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^archive-seal: electronic records registration and backup center\n\nusage:\n/);
  });

  it('help, --help, -h: the usage on stdout, exit 0', async () => {
    for (const run of await Promise.all(['help', '--help', '-h'].map((flag) => runCli([flag])))) {
      expect(run.code).toBe(0);
      expect(run.stderr).toBe('');
      expect(run.stdout).toMatch(/^archive-seal: electronic records registration and backup center\n\nusage:\n/);
      expect(run.stdout).toContain('exit status: 0 ok, 1 failure, 2 bad usage');
    }
  });
});

describe('ids that are not positive safe integers are bad usage, checked before any request', () => {
  it('status and certificate with an id too large, not a number, or 0: exit 2, one line, no request', async () => {
    requests = [];
    const cases = [
      ['status', '99999999999999999999'],
      ['status', '9007199254740992'], // 2^53: Number() would round it
      ['status', 'abc'],
      ['status', '0'],
      ['certificate', '99999999999999999999'],
    ] as const;
    const runs = await Promise.all(cases.map(([command, id]) => runCli([command, id], env)));
    runs.forEach((run, i) => {
      const [command, id] = cases[i]!;
      expect(run.code).toBe(2);
      expect(run.stderr).toBe(`archive-seal ${command}: ${id} is not a registration id (a whole number from 1 to 9007199254740991)\n`);
      expect(run.stdout).toBe('');
    });
    expect(requests).toEqual([]);
  });

  it('export --registration 9999999999999999 is refused, not rounded to another registration', async () => {
    const run = await runCli(['export', '--bag', 'unused', '--registration', '9999999999999999', '--data-dir', 'unused']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('archive-seal export: --registration 9999999999999999 is not an id (a whole number from 1 to 9007199254740991)\n');
  });

  it('the largest safe id is asked of the center (which answers NOT_FOUND, exit 1)', async () => {
    requests = [];
    const run = await runCli(['status', '9007199254740991'], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('archive-seal status: NOT_FOUND: no such registration\n');
    expect(requests).toEqual(['GET /v1/registrations/9007199254740991']);
  });
});
