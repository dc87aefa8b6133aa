import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import * as vm from 'node:vm';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { signDetached } from '../../src/pki/cms-signer.js';
import { BuiltInTimestampAuthority } from '../../src/pki/timestamp-authority.js';
import { devPki } from './pki-test-kit.js';

/**
 * The core verifiers must run in a browser: bundle them for the browser platform (which fails
 * on any node:* import) and run the bundle in a bare V8 context that has only what a browser
 * offers (WebCrypto, atob/btoa, TextEncoder/TextDecoder) and no process, global, Buffer or require.
 */
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
let bundle = '';

beforeAll(async () => {
  const result = await build({
    stdin: {
      contents: [
        "export { verifyDetachedCms } from './src/core/cms-verify.ts';",
        "export { verifyTimestampToken } from './src/core/timestamp-verify.ts';",
      ].join('\n'),
      resolveDir: repoRoot,
      loader: 'ts',
    },
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: 'ArchiveSealCore',
    target: 'es2022',
    minify: true,
    write: false,
    logLevel: 'silent',
  });
  bundle = result.outputFiles[0]?.text ?? '';
});

/**
 * Node's WebCrypto lives in the host realm and insists on host-realm buffers; a browser's lives
 * in the page's realm. This bridge copies the bundle's (other-realm) buffers into host ones.
 * It is scaffolding for the vm only: the code under test sees a plain `crypto.subtle`.
 */
function realmBridgedCrypto(): Crypto {
  const isBufferLike = (v: unknown) =>
    ArrayBuffer.isView(v) || Object.prototype.toString.call(v) === '[object ArrayBuffer]';
  const toHost = (v: unknown): unknown => {
    if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
    if (isBufferLike(v)) return new Uint8Array(v as ArrayBuffer).slice();
    if (v && typeof v === 'object' && Object.getPrototypeOf(v)?.constructor?.name === 'Object') {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toHost(x)]));
    }
    return v;
  };
  const subtle = globalThis.crypto.subtle;
  const bridged = new Proxy(subtle, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => (value as (...a: unknown[]) => unknown).apply(target, args.map(toHost));
    },
  });
  return {
    subtle: bridged,
    getRandomValues: <T extends ArrayBufferView>(array: T) => globalThis.crypto.getRandomValues(array),
    randomUUID: () => globalThis.crypto.randomUUID(),
  } as Crypto;
}

function browserLikeContext(): vm.Context {
  const context = vm.createContext({
    crypto: realmBridgedCrypto(),
    atob,
    btoa,
    TextEncoder,
    TextDecoder,
    console,
  });
  vm.runInContext(bundle, context);
  // Inputs are made inside the context so that its own Uint8Array is used, as in a page.
  vm.runInContext(
    `
    const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    globalThis.checkCms = async (sig, content, root) =>
      JSON.stringify(await ArchiveSealCore.verifyDetachedCms(bytes(sig), bytes(content), [root]));
    globalThis.checkTst = async (token, digest, root) =>
      JSON.stringify(await ArchiveSealCore.verifyTimestampToken(bytes(token), bytes(digest), [root]));
    `,
    context,
  );
  return context;
}

describe('src/core verifiers in a browser-like runtime', () => {
  it('bundle for the browser platform without node built-ins', () => {
    expect(bundle.length).toBeGreaterThan(10_000);
    expect(bundle).not.toMatch(/require\(["']node:/);
  });

  it('verify a CMS signature and a timestamp token with WebCrypto only', async () => {
    const context = browserLikeContext();
    expect(vm.runInContext('typeof process + typeof global + typeof Buffer + typeof require', context)).toBe(
      'undefinedundefinedundefinedundefined',
    );
    const root = devPki().roots[0]!.pem;
    const content = new TextEncoder().encode('browser check');
    const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

    const signature = signDetached(content, devPki().center);
    const cms = JSON.parse(await context.checkCms(b64(signature), b64(content), root)) as { code: string };
    expect(cms).toMatchObject({ status: 'ok', code: 'OK' });
    const tampered = JSON.parse(await context.checkCms(b64(signature), b64(new Uint8Array(3)), root)) as { code: string };
    expect(tampered.code).toBe('CMS_DIGEST_MISMATCH');

    const digest = new Uint8Array(createHash('sha256').update(content).digest());
    const { token } = await new BuiltInTimestampAuthority({ identity: devPki().tsa }).timestamp(digest);
    const tst = JSON.parse(await context.checkTst(b64(token), b64(digest), root)) as { code: string; isDevelopment: boolean };
    expect(tst).toMatchObject({ code: 'OK', isDevelopment: true });
  });
});
