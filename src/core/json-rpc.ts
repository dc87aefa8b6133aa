import type { JsonRpcRequest } from './anchor-check.js';

/**
 * A JSON-RPC 2.0 requester for an Ethereum node at `url`, over the `fetch` it is given (the
 * browser's, or Node's): core code stays free of I/O of its own. Errors the node reports and
 * transport failures reject with a plain-language message.
 */
export function jsonRpcOverHttp(url: string, fetchImpl: typeof fetch): JsonRpcRequest {
  let id = 0;
  return async (method, params) => {
    let response: Response;
    try {
      response = await fetchImpl(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params }),
      });
    } catch (err) {
      throw new Error(`cannot reach ${url}: ${(err as Error).message}`);
    }
    let body: { result?: unknown; error?: { message?: string } };
    try {
      body = (await response.json()) as typeof body;
    } catch {
      throw new Error(`${url} answered ${method} with HTTP ${response.status} and no JSON`);
    }
    if (body.error) throw new Error(`${method}: ${body.error.message ?? 'node error'}`);
    // A rate limit or a proxy's error page: say what happened, not what a missing result breaks later.
    if (!response.ok || !('result' in body)) throw new Error(`${url} answered ${method} with HTTP ${response.status} and no result`);
    return body.result;
  };
}

/** The chain id a node serves (eth_chainId). */
export async function chainIdOf(request: JsonRpcRequest): Promise<number> {
  return Number(BigInt((await request('eth_chainId', [])) as string));
}
