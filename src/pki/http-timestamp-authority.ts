import { randomBytes } from 'node:crypto';
import { asArrayBufferView } from '../core/certificate-facts.js';
import { verifyTimestampToken } from '../core/timestamp-verify.js';
import { PkiError } from './pki-error.js';
import type { TimestampAuthority, TimestampResult } from './timestamp-authority.js';
import { buildTimestampRequest } from './timestamp-request.js';
import { PKI_STATUS, parseTimestampResponse } from './timestamp-response.js';

/** Options of {@link HttpTimestampAuthority}. */
export interface HttpTimestampAuthorityOptions {
  /**
   * Root certificate(s) of the outside TSA, PEM or DER. Required: a reply is only worth
   * keeping if its signer chains to a root the center chose to trust.
   */
  trustRoots: readonly (string | Uint8Array)[];
  /** reqPolicy to ask for; the token must then carry it. */
  policyOid?: string;
  /** Give up after this long; default 15 s. */
  timeoutMs?: number;
  /** Extra request headers (e.g. authorization a commercial TSA wants). */
  headers?: Readonly<Record<string, string>>;
  /** fetch implementation; default the global one. */
  fetch?: typeof fetch;
}

// RFC 3161 §3.4 names application/timestamp-reply; a few old servers still answer with the
// draft's application/timestamp-response.
const REPLY_TYPES = ['application/timestamp-reply', 'application/timestamp-response'];

/**
 * An outside RFC 3161 TSA over HTTP (RFC 3161 §3.4). Each request carries a random 64-bit
 * nonce and certReq TRUE; a reply is accepted only when it is granted and its token verifies
 * fully (imprint, nonce, signature, ESS, critical timeStamping EKU, chain to `trustRoots`).
 * Failures throw {@link PkiError} with code TSA_HTTP_ERROR, TSA_REJECTED or TSA_REPLY_INVALID.
 */
export class HttpTimestampAuthority implements TimestampAuthority {
  private readonly options: HttpTimestampAuthorityOptions;

  constructor(
    readonly url: string,
    options: HttpTimestampAuthorityOptions,
  ) {
    if (options.trustRoots.length === 0) {
      throw new PkiError('INVALID_ARGUMENT', 'an outside TSA needs at least one trust root');
    }
    this.options = options;
  }

  async timestamp(sha256Digest: Uint8Array): Promise<TimestampResult> {
    if (sha256Digest.length !== 32) throw new PkiError('INVALID_ARGUMENT', 'a SHA-256 digest is 32 bytes');
    const nonceBytes = randomBytes(8);
    nonceBytes[0] = (nonceBytes[0] as number) & 0x7f;
    const nonce = BigInt(`0x${nonceBytes.toString('hex')}`);
    const request = buildTimestampRequest({
      sha256Digest,
      nonce,
      certReq: true,
      ...(this.options.policyOid ? { reqPolicy: this.options.policyOid } : {}),
    });

    const doFetch = this.options.fetch ?? fetch;
    let body: Uint8Array;
    try {
      const response = await doFetch(this.url, {
        method: 'POST',
        headers: { ...this.options.headers, 'content-type': 'application/timestamp-query' },
        body: asArrayBufferView(request),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 15_000),
      });
      if (!response.ok) {
        throw new PkiError('TSA_HTTP_ERROR', `TSA ${this.url} answered HTTP ${response.status}`);
      }
      const type = (response.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      if (!REPLY_TYPES.includes(type)) {
        throw new PkiError('TSA_HTTP_ERROR', `TSA ${this.url} answered with content type "${type}"`);
      }
      body = new Uint8Array(await response.arrayBuffer());
    } catch (e) {
      if (e instanceof PkiError) throw e;
      throw new PkiError('TSA_HTTP_ERROR', `cannot reach TSA ${this.url}: ${(e as Error).message}`, { cause: e });
    }

    let reply;
    try {
      reply = parseTimestampResponse(body);
    } catch (e) {
      throw new PkiError('TSA_REPLY_INVALID', `the TSA's reply is not a TimeStampResp: ${(e as Error).message}`, { cause: e });
    }
    if (reply.status !== PKI_STATUS.granted && reply.status !== PKI_STATUS.grantedWithMods) {
      const why = [...reply.statusText, ...reply.failInfo].join('; ') || 'no reason given';
      throw new PkiError('TSA_REJECTED', `TSA ${this.url} refused (status ${reply.status}): ${why}`);
    }
    if (!reply.token) throw new PkiError('TSA_REPLY_INVALID', 'the TSA granted the request but sent no token');

    const check = await verifyTimestampToken(reply.token, sha256Digest, this.options.trustRoots, { nonce });
    if (check.status !== 'ok') {
      throw new PkiError('TSA_REPLY_INVALID', `the TSA's token does not verify (${check.code}): ${check.message}`);
    }
    if (this.options.policyOid && check.policy !== this.options.policyOid) {
      throw new PkiError('TSA_REPLY_INVALID', `the token's policy ${check.policy} is not the requested ${this.options.policyOid}`);
    }
    return {
      token: reply.token,
      genTime: check.genTime as Date,
      serial: check.serial as string,
      tsa: check.tsa as string,
    };
  }
}
