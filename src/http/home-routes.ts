import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import type { AppEnv } from './app-env.js';

export interface HomeRoutesDeps {
  center: { id: string; name: string };
}

const STYLE =
  'body{font-family:system-ui,"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;line-height:1.6;color:#1a1a1a}' +
  'h1{font-size:1.5rem;margin-bottom:.25rem}p.en,span.en{color:#555}ul{padding-left:1.2rem}li{margin:.4rem 0}code{background:#f3f3f3;padding:0 .2rem}';

/**
 * `GET /`: a small page, Chinese first, that says what the center is and where to go: the
 * verifier, the public API. Server-rendered, no script, no outside assets (the later web
 * console replaces it).
 */
export function homeRoutes(deps: HomeRoutesDeps) {
  const html = homePage(deps.center);
  const csp = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
  return new Hono<AppEnv>().get('/', (c) => {
    c.header('Content-Security-Policy', csp);
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('X-Frame-Options', 'DENY');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('Cache-Control', 'no-cache');
    return c.html(html);
  });
}

function homePage(center: { id: string; name: string }): string {
  const name = escapeHtml(center.name);
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${name} · 电子文件和数字档案登记备份中心</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${name}</h1>
<p>电子文件和数字档案登记备份中心。机关、企事业单位和个人在此登记电子文件；中心异地备份加密副本，每日将登记封存为默克尔树根，经可信时间戳并锚定到区块链，出具任何人（包括法院）无需信任本中心即可核验的真实性证明。</p>
<p class="en">Electronic records registration and backup center: records are registered, kept as encrypted copies replicated off site, sealed daily into a timestamped Merkle root anchored on a chain, and certified so that anyone can check them without trusting the center.</p>
<ul>
<li><a href="/verify">核验证书</a> <span class="en">Verify a certificate</span>：选择文件与证书，在浏览器内核验，文件不上传。</li>
<li><a href="/verify?download=1">下载离线核验页</a> <span class="en">Download the verifier for offline use</span></li>
<li><a href="/v1/periods">已封存周期</a> <span class="en">Sealed periods</span>（树根、时间戳、链上锚定）</li>
<li><a href="/v1/chains">锚定所用的链</a> <span class="en">Chains and their JSON-RPC URLs</span></li>
<li><a href="/v1/categories">登记类别</a> <span class="en">Categories</span></li>
</ul>
<p>接口（API）：<code>/v1/…</code>，JSON，登记与查询需 <code>Authorization: Bearer</code> 令牌；命令行工具 <code>archive-seal</code>（<code>archive-seal help</code>）。</p>
<p class="en">API: JSON under <code>/v1</code>; registering and reading registrations need a bearer token. Command line: <code>archive-seal help</code>. Center id: <code>${escapeHtml(center.id)}</code>.</p>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
