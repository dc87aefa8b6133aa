/**
 * What the center tells its verifier page: its name, the roots its signatures and timestamps
 * chain to, and its chains with the public JSON-RPC URL verifiers should use. The center
 * writes it into the page as a JSON block, so a saved copy of the page keeps it.
 */
export interface CenterConfig {
  center: { id: string; name: string } | null;
  /** The public base URL of the center (no trailing slash): relative certificate links resolve against it. */
  origin: string | null;
  /** PEM certificates trusted for the center's signature (and its timestamps, unless `timestampTrustRoots`). */
  trustRoots: string[];
  /** PEM certificates trusted for the timestamps when the center uses an outside TSA. */
  timestampTrustRoots?: string[];
  chains: { name: string; chainId: number; contract: string; rpcUrl: string }[];
}

/** Id of the `<script type="application/json">` element that carries the configuration. */
export const CENTER_CONFIG_ELEMENT_ID = 'archive-seal-center';

export const EMPTY_CENTER_CONFIG: CenterConfig = Object.freeze({ center: null, origin: null, trustRoots: [], chains: [] });

const BLOCK = new RegExp(`(<script type="application/json" id="${CENTER_CONFIG_ELEMENT_ID}">)([\\s\\S]*?)(</script>)`);

/**
 * The page with `config` written into its configuration block. `<`, U+2028 and U+2029 are
 * escaped, so no value (a center name, a PEM) can close the script element or break the JSON.
 */
export function injectCenterConfig(html: string, config: CenterConfig): string {
  if (!BLOCK.test(html)) throw new Error(`the page has no ${CENTER_CONFIG_ELEMENT_ID} block`);
  const json = JSON.stringify(config).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  return html.replace(BLOCK, (_, open: string, _old: string, close: string) => `${open}${json}${close}`);
}

/** The configuration a page carries; the empty one when the block is absent or malformed. */
export function parseCenterConfig(text: string | null | undefined): CenterConfig {
  let value: unknown;
  try {
    value = JSON.parse(text ?? 'null');
  } catch {
    return EMPTY_CENTER_CONFIG;
  }
  if (typeof value !== 'object' || value === null) return EMPTY_CENTER_CONFIG;
  const v = value as Partial<CenterConfig>;
  const center = v.center && typeof v.center.id === 'string' && typeof v.center.name === 'string' ? { id: v.center.id, name: v.center.name } : null;
  return {
    center,
    origin: typeof v.origin === 'string' && /^https?:\/\//.test(v.origin) ? v.origin : null,
    trustRoots: Array.isArray(v.trustRoots) ? v.trustRoots.filter((r): r is string => typeof r === 'string') : [],
    ...(Array.isArray(v.timestampTrustRoots) && { timestampTrustRoots: v.timestampTrustRoots.filter((r): r is string => typeof r === 'string') }),
    chains: Array.isArray(v.chains)
      ? v.chains.filter((c) => c && typeof c.chainId === 'number' && typeof c.rpcUrl === 'string' && /^https?:\/\//.test(c.rpcUrl))
      : [],
  };
}
