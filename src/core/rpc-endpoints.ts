import type { JsonRpcRequest } from './anchor-check.js';
import { chainIdOf, jsonRpcOverHttp } from './json-rpc.js';

/** What became of one JSON-RPC URL the user gave: the chain it serves, or why it could not be asked. */
export interface RpcEndpointUse {
  url: string;
  chainId: number | null;
  problem?: string;
}

/**
 * The JSON-RPC requester for each chain, as the CLI's `--rpc` does it: each URL serves the chain
 * its `eth_chainId` names; a URL that cannot be asked stands in for the certificate's chains no
 * other URL serves, so their anchor step fails and says why instead of being skipped.
 */
export async function rpcEndpoints(
  urls: readonly string[],
  anchorChainIds: readonly number[],
  fetchImpl: typeof fetch,
): Promise<{ rpc: Map<number, JsonRpcRequest>; uses: RpcEndpointUse[] }> {
  const rpc = new Map<number, JsonRpcRequest>();
  const uses: RpcEndpointUse[] = [];
  let unreachable: JsonRpcRequest | undefined;
  for (const url of urls) {
    if (!/^https?:\/\/[^\s]+$/.test(url)) {
      uses.push({ url, chainId: null, problem: 'not an http(s) URL' });
      continue;
    }
    const request = jsonRpcOverHttp(url, fetchImpl);
    try {
      const chainId = await chainIdOf(request);
      if (!rpc.has(chainId)) rpc.set(chainId, request);
      uses.push({ url, chainId });
    } catch (err) {
      unreachable ??= request;
      uses.push({ url, chainId: null, problem: (err as Error).message });
    }
  }
  if (unreachable) for (const id of anchorChainIds) if (!rpc.has(id)) rpc.set(id, unreachable);
  return { rpc, uses };
}
