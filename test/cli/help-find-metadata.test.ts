import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, runCli, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// What a new user tries in the first hour: each command's --help, the category codes, metadata
// with the files, and finding the registration of a file instead of guessing its id.
const COMMANDS = ['serve', 'register', 'find', 'categories', 'seal', 'status', 'certificate', 'verify', 'tokens', 'export', 'recover', 'keys'];
const dir = makeTempDir();
let server: ServerProcess;
let env: Record<string, string>;

beforeAll(async () => {
  server = await startServerProcess(join(dir.path, 'data'));
  env = { ARCHIVE_SEAL_SERVER: server.url, ARCHIVE_SEAL_TOKEN: server.adminToken };
});
afterAll(async () => {
  await server?.stop();
  dir.remove();
});

describe('per-command help', () => {
  it('COMMAND --help and -h print that command\'s usage on stdout, exit 0', async () => {
    const runs = await Promise.all(COMMANDS.map((command) => runCli([command, command === 'verify' ? '-h' : '--help'])));
    runs.forEach((run, i) => {
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`^archive-seal ${COMMANDS[i]}\\b`));
    });
  });

  it('help COMMAND does the same; a bad option points to the help', async () => {
    const run = await runCli(['help', 'register']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^archive-seal register <file\|dir>\.\.\. --category CODE/);
    expect(run.stdout).toContain('--meta');
    const bad = await runCli(['status', '--bogus']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Unknown option '--bogus'.*\(archive-seal status --help\)\n$/);
  });
});

describe('categories', () => {
  it('lists every code with its Chinese and English names', async () => {
    const run = await runCli(['categories']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('  livelihood.marriage\t婚姻登记档案\tMarriage registration records\n');
    const { body } = await api(server.url, undefined, 'GET', '/v1/categories');
    const codes = JSON.stringify(body).match(/"(livelihood|project|agency|voluntary)\.[a-z-]+"/g)!.map((c) => c.slice(1, -1));
    for (const code of new Set(codes)) expect(run.stdout).toContain(`  ${code}\t`);
  });

  it('register with an unknown category says which one was meant, exit 2, before anything is sent', async () => {
    const file = join(dir.path, 'one.pdf');
    writeFileSync(file, 'one');
    const run = await runCli(['register', file, '--category', 'marriage'], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('archive-seal register: --category "marriage" is not in the taxonomy (did you mean livelihood.marriage, 婚姻登记档案?); see GET /v1/categories or archive-seal categories\n');
  });
});

describe('register with metadata, then find', () => {
  const transfer = join(dir.path, 'transfer');
  const metadataFile = join(dir.path, 'metadata.json');
  beforeAll(() => {
    mkdirSync(transfer);
    writeFileSync(join(transfer, '婚姻登记表.pdf'), 'marriage record');
    writeFileSync(join(transfer, '离婚登记表.pdf'), 'divorce record');
    writeFileSync(metadataFile, '\uFEFF{"全宗号":"J012","保管期限":"30年","页数":3}');
  });

  for (const mode of [[], ['--hash-only']]) {
    it(`sends --metadata FILE.json and --meta KEY=VALUE with every file (the latter wins) ${mode.join(' ')}`, async () => {
      const run = await runCli(['register', transfer, '--category', 'livelihood.marriage', '--metadata', metadataFile, '--meta', '保管期限=永久', '--meta', '档号=J012-WS·2024-Y-0001', '--meta', '备注=a=b', ...mode], env);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      for (const line of run.stdout.trim().split('\n')) {
        const { body } = await api(server.url, server.adminToken, 'GET', `/v1/registrations/${line.split('\t')[0]}`);
        expect(body.record.metadata).toEqual({ 全宗号: 'J012', 保管期限: '永久', 页数: 3, 档号: 'J012-WS·2024-Y-0001', 备注: 'a=b' });
      }
    });
  }

  it('refuses metadata that is not KEY=VALUE or not a JSON object, exit 2', async () => {
    const bad = join(dir.path, 'list.json');
    writeFileSync(bad, '["J012"]');
    const runs = await Promise.all([
      runCli(['register', transfer, '--category', 'livelihood.marriage', '--meta', '档号'], env),
      runCli(['register', transfer, '--category', 'livelihood.marriage', '--metadata', bad], env),
      runCli(['register', transfer, '--category', 'livelihood.marriage', '--metadata', join(dir.path, 'absent.json')], env),
    ]);
    for (const run of runs) expect(run.code).toBe(2);
    expect(runs[0]!.stderr).toContain('--meta 档号: give KEY=VALUE');
    expect(runs[1]!.stderr).toContain('must hold one JSON object');
    expect(runs[2]!.stderr).toContain('no such file or directory (ENOENT)');
  });

  it('find FILE prints each registration of its content: id, status, period, title, file name', async () => {
    const file = join(transfer, '婚姻登记表.pdf');
    const run = await runCli(['find', file], env);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n').map((l) => l.split('\t'));
    expect(lines).toHaveLength(1); // registered twice by the same registrant: one registration
    for (const [id, status, period, title, fileName, given] of lines) {
      const { body } = await api(server.url, server.adminToken, 'GET', `/v1/registrations/${id}`);
      expect(body.digests.sha256).toBe(createHash('sha256').update('marriage record').digest('hex'));
      expect([status, period, title, fileName, given]).toEqual([body.status, `period ${body.periodId}`, '-', '婚姻登记表.pdf', file]);
    }
    const bySha = await runCli(['find', '--sha256', createHash('sha256').update('marriage record').digest('hex')], env);
    expect(bySha.stdout.split('\n').map((l) => l.split('\t')[0])).toEqual(run.stdout.split('\n').map((l) => l.split('\t')[0]));
  });

  it('find exits 1 naming a file nobody registered, and 2 for a digest that is not one', async () => {
    const other = join(dir.path, 'never.pdf');
    writeFileSync(other, 'never registered');
    const run = await runCli(['find', other], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^not found\\t${other}\\tno registration of sha256:[0-9a-f]{64} that this token may see\\n$`));
    const bad = await runCli(['find', '--sha256', 'xyz'], env);
    expect(bad.code).toBe(2);
  });
});

describe('register with a transfer catalog (CSV UTF-8, one row per file)', () => {
  const transfer = join(dir.path, 'catalogued');
  const catalog = join(dir.path, '移交目录.csv');
  beforeAll(() => {
    mkdirSync(join(transfer, 'sub'), { recursive: true });
    writeFileSync(join(transfer, '婚姻登记表(2024).pdf'), 'catalogued 1');
    writeFileSync(join(transfer, 'sub', '离婚协议书.pdf'), 'catalogued 2');
    // As Excel saves "CSV UTF-8": a BOM, CRLF; a quoted cell with a comma, a quote and a line break.
    writeFileSync(
      catalog,
      '\uFEFF文件名,题名,档号,保管期限,备注\r\n' +
        '婚姻登记表(2024).pdf,张三 李四 结婚登记,J012-HY·2024-0001,永久,\r\n' +
        '离婚协议书.pdf,"王五, 赵六 ""离婚""协议",J012-HY·2024-0002,30年,"第一页\n有折痕"\r\n',
    );
  });

  it('gives each file the title and elements of its row, over those given for all', async () => {
    const run = await runCli(['register', transfer, '--category', 'livelihood.marriage', '--catalog', catalog, '--meta', '全宗号=J012', '--meta', '保管期限=10年'], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const records = new Map<string, any>();
    for (const line of run.stdout.trim().split('\n')) {
      const { body } = await api(server.url, server.adminToken, 'GET', `/v1/registrations/${line.split('\t')[0]}`);
      records.set(body.record.fileName, body.record);
    }
    expect(records.get('婚姻登记表(2024).pdf')).toMatchObject({ title: '张三 李四 结婚登记', metadata: { 全宗号: 'J012', 档号: 'J012-HY·2024-0001', 保管期限: '永久' } });
    expect(records.get('婚姻登记表(2024).pdf').metadata).not.toHaveProperty('备注'); // an empty cell is left out
    expect(records.get('离婚协议书.pdf')).toMatchObject({ title: '王五, 赵六 "离婚"协议', metadata: { 全宗号: 'J012', 档号: 'J012-HY·2024-0002', 保管期限: '30年', 备注: '第一页\n有折痕' } });
  });

  it('refuses, before sending anything, a file without a row, a row without a file, and a catalog not in UTF-8', async () => {
    const extra = join(dir.path, 'extra.pdf');
    writeFileSync(extra, 'not in the catalog');
    const gbk = join(dir.path, 'gbk.csv');
    writeFileSync(gbk, Buffer.from([0xce, 0xc4, 0xbc, 0xfe, 0xc3, 0xfb, 0x0d, 0x0a])); // 文件名 in GBK
    const runs = await Promise.all([
      runCli(['register', transfer, extra, '--category', 'livelihood.marriage', '--catalog', catalog], env),
      runCli(['register', join(transfer, 'sub'), '--category', 'livelihood.marriage', '--catalog', catalog], env),
      runCli(['register', transfer, '--category', 'livelihood.marriage', '--catalog', gbk], env),
    ]);
    for (const run of runs) expect([run.code, run.stdout]).toEqual([2, '']);
    expect(runs[0]!.stderr).toBe(`archive-seal register: --catalog ${catalog} has no row for ${extra}\n`);
    expect(runs[1]!.stderr).toBe(`archive-seal register: --catalog ${catalog} names files not found: 婚姻登记表(2024).pdf\n`);
    expect(runs[2]!.stderr).toContain('is not UTF-8: save it as "CSV UTF-8');
  });
});
