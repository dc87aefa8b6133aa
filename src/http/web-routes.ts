import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Hono, type Context } from 'hono';
import type { AnchoringService } from '../anchor/anchoring-service.js';
import type { CenterPki } from '../pki/center-pki.js';
import { injectCenterConfig, type CenterConfig } from '../web/center-config.js';
import { ApiError } from './api-error.js';
import type { AppEnv } from './app-env.js';
import { requestHeader } from './request-body.js';

/** The built page: scripts/build-web.ts writes it (`npm run build`); the same path from src/ and dist/. */
const PAGE_FILE = fileURLToPath(new URL('../../dist/web/verify.html', import.meta.url));

export interface WebRoutesDeps {
  pki: CenterPki;
  /** Roots for the timestamp tokens when they come from an outside TSA; default the center's. */
  timestampTrustRoots?: readonly string[];
  anchoring: AnchoringService;
  center: { id: string; name: string };
  /** ARCHIVE_SEAL_PUBLIC_URL; undefined: the origin each request came to. */
  publicUrl: string | undefined;
  /** Where the built page is; default dist/web/verify.html. */
  pageFile?: string;
}

/**
 * The center's public base URL, for the links and QR codes it hands out: the setting
 * (ARCHIVE_SEAL_PUBLIC_URL); without it, the Host the client named when it is a plain host name
 * or IP literal with an optional port (at most 261 characters); otherwise the address this
 * server was reached at (the socket's local address, never a client's words). A client cannot
 * make a link longer than a QR code holds, or put anything but a host into it.
 */
export function publicBaseUrl(c: Context<AppEnv>, publicUrl: string | undefined): string {
  if (publicUrl) return publicUrl;
  const incoming = c.env?.incoming;
  const secure = incoming ? (incoming.socket as { encrypted?: boolean }).encrypted === true : c.req.url.startsWith('https:');
  const scheme = secure ? 'https' : 'http';
  const host = incoming ? requestHeader(c, 'host') : hostOfUrl(c.req.url);
  if (host !== undefined && isPlainHost(host)) return `${scheme}://${host.toLowerCase()}`;
  const address = incoming?.socket.localAddress?.replace(/^::ffff:(?=\d+\.)/, '');
  const port = incoming?.socket.localPort;
  if (address && port) return `${scheme}://${address.includes(':') ? `[${address}]` : address}:${port}`;
  return `${scheme}://localhost`;
}

/** A DNS name (labels of letters, digits and hyphens) or an IP literal, then an optional port. */
const PLAIN_HOST = /^(?:(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.?|\[[0-9a-f:.]{2,45}\])(?::\d{1,5})?$/i;

function isPlainHost(host: string): boolean {
  return host.length <= 261 && PLAIN_HOST.test(host);
}

function hostOfUrl(url: string): string | undefined {
  return /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(url)?.[1];
}

/** The verify link a certificate's QR code holds: the page, with the certificate's public link prefilled. */
export function verifyLink(base: string, certificateId: string): string {
  return `${base}/verify#cert=/v1/certificates/${encodeURIComponent(certificateId)}`;
}

/**
 * `GET /verify`: the browser verifier, with this center's trust roots, chains and public URL
 * written into it, so the page, and a copy saved from it (`?download=1`), verifies without
 * asking the center anything. The certificate to check may be prefilled from the link
 * (`#cert=/v1/certificates/ID` or `?cert=`); trust roots and RPC URLs never come from a link.
 */
export function webRoutes(deps: WebRoutesDeps) {
  const file = deps.pageFile ?? PAGE_FILE;
  let cached: { mtimeMs: number; html: string; csp: string } | undefined;
  const page = () => {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(file).mtimeMs;
    } catch {
      throw new ApiError(503, 'INTERNAL', 'the verifier page is not built; run `npm run build`');
    }
    if (cached?.mtimeMs !== mtimeMs) {
      const html = readFileSync(file, 'utf8');
      cached = { mtimeMs, html, csp: contentSecurityPolicy(html) };
    }
    return cached;
  };
  return new Hono<AppEnv>().get('/', (c) => {
    const { html, csp } = page();
    const origin = publicBaseUrl(c, deps.publicUrl);
    const config: CenterConfig = {
      center: deps.center,
      origin,
      trustRoots: deps.pki.roots.map((r) => r.pem),
      ...(deps.timestampTrustRoots && { timestampTrustRoots: [...deps.timestampTrustRoots] }),
      chains: deps.anchoring.configuredChains.map(({ settings: s }) => ({ name: s.name, chainId: s.chainId, contract: s.contract, rpcUrl: s.publicRpcUrl })),
    };
    c.header('Content-Security-Policy', csp);
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('Cache-Control', 'no-cache');
    if (c.req.query('download') !== undefined) {
      c.header('Content-Disposition', `attachment; filename="archive-seal-verify-${deps.center.id}.html"`);
    }
    return c.html(injectCenterConfig(html, config));
  });
}

/**
 * Only the page's own script and style run (by hash), WebAssembly may compile (SM3 and SHA-256
 * are hash-wasm), and fetch may reach any node the user names; nothing else loads.
 */
function contentSecurityPolicy(html: string): string {
  const hashes = (tag: 'script' | 'style') =>
    [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => `'sha256-${createHash('sha256').update(m[1]!).digest('base64')}'`).join(' ');
  return [
    "default-src 'none'",
    `script-src ${hashes('script')} 'wasm-unsafe-eval'`,
    `style-src ${hashes('style')}`,
    'connect-src *',
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
