import type { Principal } from '../registry/principal.js';

/** Hono's typed context: what middleware leaves for handlers. */
export interface AppEnv {
  Variables: {
    principal: Principal;
  };
}
