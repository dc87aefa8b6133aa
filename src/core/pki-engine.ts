import * as pkijs from 'pkijs';

let engine: pkijs.ICryptoEngine | undefined;

/**
 * The pkijs crypto engine over WebCrypto (`globalThis.crypto`), the same object in Node 20
 * and in a browser. Created once and also installed with `pkijs.setEngine`, because a few
 * pkijs internals ask the global engine instead of taking one as an argument.
 */
export function getPkiEngine(): pkijs.ICryptoEngine {
  if (engine) return engine;
  const webCrypto: Crypto | undefined = globalThis.crypto;
  if (!webCrypto || !webCrypto.subtle) {
    throw new Error('WebCrypto (globalThis.crypto.subtle) is not available in this environment');
  }
  const created = new pkijs.CryptoEngine({ name: 'archive-seal-webcrypto', crypto: webCrypto });
  pkijs.setEngine('archive-seal-webcrypto', created);
  engine = created;
  return created;
}
