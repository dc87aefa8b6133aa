import { Hono } from 'hono';
import type { AnchoringService } from '../anchor/anchoring-service.js';

/** `/v1/chains`: where the center anchors, and the JSON-RPC URL verifiers should use. Public. */
export function chainRoutes(deps: { anchoring: AnchoringService }) {
  return new Hono().get('/', (c) =>
    c.json({
      chains: deps.anchoring.configuredChains.map(({ settings: s }) => ({
        name: s.name,
        chainId: s.chainId,
        contract: s.contract,
        rpcUrl: s.publicRpcUrl,
        deployBlock: s.deployBlock,
        confirmations: s.confirmations,
      })),
    }),
  );
}
