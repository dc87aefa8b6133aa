import { createRequire } from 'node:module';
import type * as Forge from 'node-forge';

/**
 * node-forge loaded through `require`: it is CommonJS and builds its namespace at run time,
 * so an ESM namespace import sees none of `pki`, `asn1`, `md`.
 */
export const forge: typeof Forge = createRequire(import.meta.url)('node-forge');
