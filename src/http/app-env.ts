import type { IncomingMessage } from 'node:http';
import type { Principal } from '../registry/principal.js';

/** Hono's typed context: what the Node server binds and what middleware leaves for handlers. */
export interface AppEnv {
  /** Set by @hono/node-server; absent under `app.request()` in tests. */
  Bindings: { incoming?: IncomingMessage };
  Variables: {
    principal: Principal;
  };
}
