import { expect, it } from 'vitest';
import { chainIdOf, jsonRpcOverHttp } from '../../src/core/json-rpc.js';

const answering = (status: number, body: unknown): typeof fetch =>
  (async () => new Response(typeof body === 'string' ? body : JSON.stringify(body), { status })) as typeof fetch;

it('gives the result, a null result included', async () => {
  expect(await chainIdOf(jsonRpcOverHttp('http://node', answering(200, { jsonrpc: '2.0', id: 1, result: '0x7a69' })))).toBe(31337);
  expect(await jsonRpcOverHttp('http://node', answering(200, { jsonrpc: '2.0', id: 1, result: null }))('eth_getTransactionReceipt', ['0x00'])).toBeNull();
});

it('says what the node answered when there is no result (rate limit, proxy page, node error)', async () => {
  await expect(jsonRpcOverHttp('http://node', answering(429, { jsonrpc: '2.0', id: 1 }))('eth_chainId', [])).rejects.toThrow('http://node answered eth_chainId with HTTP 429 and no result');
  await expect(jsonRpcOverHttp('http://node', answering(502, '<html>bad gateway</html>'))('eth_chainId', [])).rejects.toThrow('HTTP 502 and no JSON');
  await expect(jsonRpcOverHttp('http://node', answering(200, { jsonrpc: '2.0', id: 1, error: { code: -32000, message: 'header not found' } }))('eth_getBlockByNumber', [])).rejects.toThrow('eth_getBlockByNumber: header not found');
  const unreachable = (async () => {
    throw new TypeError('fetch failed');
  }) as typeof fetch;
  await expect(jsonRpcOverHttp('http://node', unreachable)('eth_chainId', [])).rejects.toThrow('cannot reach http://node: fetch failed');
});
