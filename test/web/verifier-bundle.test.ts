import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnchoringService } from '../../src/anchor/anchoring-service.js';
import { webRoutes } from '../../src/http/web-routes.js';
import { loadDevelopmentPki } from '../../src/pki/dev-pki.js';
import { CENTER_CONFIG_ELEMENT_ID, injectCenterConfig, parseCenterConfig } from '../../src/web/center-config.js';
import { buildVerifyPage, type BuiltPage } from '../../scripts/build-web.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// The verifier page as built: one HTML file bundling src/core for the browser platform, with
// nothing Node-only in it, and the center's configuration written in safely when served.
const dir = makeTempDir('archive-seal-web-build-');
afterAll(() => dir.remove());
const pageFile = join(dir.path, 'verify.html');
let page: BuiltPage;
beforeAll(async () => {
  page = await buildVerifyPage({ outFile: pageFile });
});

const configBlock = (html: string) => new RegExp(`<script type="application/json" id="${CENTER_CONFIG_ELEMENT_ID}">([\\s\\S]*?)</script>`).exec(html)?.[1];

describe('the built verifier page', () => {
  it('bundles the same src/core verification as the CLI and no Node-only module', () => {
    for (const module of ['src/core/verify-certificate.ts', 'src/core/cms-verify.ts', 'src/core/timestamp-verify.ts', 'src/core/anchor-check.ts', 'src/core/digests.ts', 'src/core/json-rpc.ts']) {
      expect(page.inputs).toContain(module);
    }
    expect(page.inputs.filter((p) => p.startsWith('node:') || /\(disabled\)/.test(p))).toEqual([]);
    expect(page.inputs.filter((p) => p.startsWith('src/') && !p.startsWith('src/core/') && !p.startsWith('src/web/'))).toEqual([]);
    expect(page.html).not.toMatch(/require\(["'](node:)?(fs|crypto|path|stream|buffer|util)["']\)/);
  });

  it('is one self-contained file: script and style inline, nothing fetched to run', () => {
    expect(page.html.match(/<\/script>/g)).toHaveLength(2); // the configuration block and the bundle
    expect(page.html).not.toMatch(/<script[^>]+src=|<link[^>]+stylesheet|@import/);
    expect(page.html).not.toMatch(/\/\*(STYLE|SCRIPT)\*\//);
    // Size as reported in the README; a regression guard, not a target.
    expect(page.htmlGzipBytes).toBeLessThan(160 * 1024);
  });

  it('keeps a hostile center name or PEM inside its JSON block', () => {
    const hostile = '</script><script>alert(1)</script>\u2028';
    const html = injectCenterConfig(page.html, { center: { id: 'x', name: hostile }, origin: 'https://c.example', trustRoots: [hostile], chains: [] });
    expect(html.match(/<\/script>/g)).toHaveLength(2);
    expect(parseCenterConfig(configBlock(html))).toMatchObject({ center: { name: hostile }, trustRoots: [hostile], origin: 'https://c.example' });
  });
});

describe('GET /verify', () => {
  const pki = loadDevelopmentPki();
  const anchoring = {
    configuredChains: [{ settings: { name: 'testnet', chainId: 31337, contract: `0x${'ab'.repeat(20)}`, publicRpcUrl: 'https://rpc.example.org' } }],
  } as unknown as AnchoringService;
  const app = () =>
    new Hono().route('/verify', webRoutes({ pki, anchoring, center: { id: 'quzhou', name: '衢州市电子文件登记备份中心' }, publicUrl: undefined, pageFile }));

  it('serves the page with the center, its roots and public RPC written in, under a hash-pinned CSP', async () => {
    const res = await app().request('http://center.example:8080/verify');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(parseCenterConfig(configBlock(html))).toEqual({
      center: { id: 'quzhou', name: '衢州市电子文件登记备份中心' },
      origin: 'http://center.example:8080',
      trustRoots: pki.roots.map((r) => r.pem),
      chains: [{ name: 'testnet', chainId: 31337, contract: `0x${'ab'.repeat(20)}`, rpcUrl: 'https://rpc.example.org' }],
    });
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain(`script-src 'sha256-${createHash('sha256').update(script).digest('base64')}' 'wasm-unsafe-eval'`);
    expect(csp).toContain("default-src 'none'");
    expect(res.headers.get('content-disposition')).toBeNull();
  });

  it('offers the same page as a download to keep and use offline', async () => {
    const res = await app().request('http://center.example:8080/verify?download=1');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="archive-seal-verify-quzhou.html"');
    expect(parseCenterConfig(configBlock(await res.text())).trustRoots).toHaveLength(pki.roots.length);
  });
});
