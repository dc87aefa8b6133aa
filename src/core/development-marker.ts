/**
 * Object identifiers that mark the development PKI, so code (and a court's expert) can tell
 * a development certificate or timestamp from real evidence without reading subject text.
 *
 * They sit under enterprise number 32473, which RFC 5612 reserves for documentation and
 * examples: nobody's production PKI issues under it.
 */

/** The arc under which every development marker of Archive Seal lives. */
export const DEVELOPMENT_OID_ARC = '1.3.6.1.4.1.32473.7310';

/**
 * Certificate policy (RFC 5280 §4.2.1.4) carried by every development certificate.
 * A signature or timestamp whose signer carries it is not evidence.
 */
export const DEVELOPMENT_CERTIFICATE_POLICY_OID = `${DEVELOPMENT_OID_ARC}.1`;

/** Default TSA policy (RFC 3161 §2.4.2 `policy`) of the built-in development TSA. */
export const DEVELOPMENT_TSA_POLICY_OID = `${DEVELOPMENT_OID_ARC}.2`;

/** True when `oid` lies under the development arc (a certificate policy or TSA policy). */
export function isDevelopmentOid(oid: string): boolean {
  return oid === DEVELOPMENT_OID_ARC || oid.startsWith(`${DEVELOPMENT_OID_ARC}.`);
}

/**
 * Chain ids of local development nodes by convention (anvil and Hardhat 31337, Ganache 1337):
 * anyone can start one with any history, so an anchor there proves nothing independent.
 */
export const DEVELOPMENT_CHAIN_IDS: ReadonlySet<number> = new Set([31337, 1337]);

/**
 * True when an anchor is on a chain that proves nothing independent of the center: the
 * certificate says so (`independent: false`), or the chain id is a development one, whatever
 * the certificate says (an old certificate says nothing).
 */
export function isDevelopmentChain(anchor: { chainId: number; independent?: boolean }): boolean {
  return anchor.independent === false || DEVELOPMENT_CHAIN_IDS.has(anchor.chainId);
}
