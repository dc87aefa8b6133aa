import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { BuiltInTimestampAuthority } from '../pki/timestamp-authority.js';

/** Largest TimeStampReq accepted. A SHA-256 request is under 100 bytes; 64 KiB leaves room for extensions. */
export const MAX_TIMESTAMP_QUERY_BYTES = 64 * 1024;

/**
 * RFC 3161 over HTTP (§3.4): `POST /` with an `application/timestamp-query` body answers an
 * `application/timestamp-reply`. A TimeStampReq that is wrong in itself still gets HTTP 200
 * with a rejection TimeStampResp, as the RFC intends; only transport faults (media type, size)
 * are HTTP errors, in the API's JSON error shape. Mounted at `/tsa`.
 */
export function createTsaRoutes(tsa: BuiltInTimestampAuthority): Hono {
  const app = new Hono();
  app.post(
    '/',
    async (c, next) => {
      const mediaType = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
      if (mediaType !== 'application/timestamp-query') {
        return c.json(
          {
            error: {
              code: 'UNSUPPORTED_MEDIA_TYPE',
              message: 'send an RFC 3161 TimeStampReq as application/timestamp-query',
            },
          },
          415,
        );
      }
      return next();
    },
    bodyLimit({
      maxSize: MAX_TIMESTAMP_QUERY_BYTES,
      onError: (c) =>
        c.json(
          {
            error: {
              code: 'PAYLOAD_TOO_LARGE',
              message: `a timestamp query may be at most ${MAX_TIMESTAMP_QUERY_BYTES} bytes`,
            },
          },
          413,
        ),
    }),
    async (c) => {
      const request = new Uint8Array(await c.req.arrayBuffer());
      const reply = tsa.respond(request);
      return c.body(reply.slice().buffer, 200, { 'content-type': 'application/timestamp-reply' });
    },
  );
  return app;
}
