import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Hono, type Context } from 'hono';
import type { AnchoringService } from '../anchor/anchoring-service.js';
import type { CenterPki } from '../pki/center-pki.js';
import { injectCenterConfig, type CenterConfig } from '../web/center-config.js';
import { ApiError } from './api-error.js';
import type { AppEnv } from './app-env.js';

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

/** The center's public base URL: the setting, or the origin (scheme, host, port) the client used. */
export function publicBaseUrl(c: Context, publicUrl: string | undefined): string {
  return publicUrl ?? new URL(c.req.url).origin;
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
