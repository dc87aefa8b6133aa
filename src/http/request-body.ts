import { isUtf8 } from 'node:buffer';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeWebReadableStream } from 'node:stream/web';
import type { Context } from 'hono';
import { ApiError } from './api-error.js';
import type { AppEnv } from './app-env.js';

/**
 * The request body as a Node stream. Under @hono/node-server this is the IncomingMessage itself:
 * asking Hono for `c.req.raw.body` would build a full fetch Request (AbortSignal, web stream),
 * which costs more than the rest of a small registration and halves upload throughput.
 */
export function requestBodyStream(c: Context<AppEnv>): Readable | undefined {
  const incoming = c.env?.incoming;
  if (incoming) return incoming;
  const body = c.req.raw.body;
  return body ? Readable.fromWeb(body as unknown as NodeWebReadableStream<Uint8Array>) : undefined;
}

/**
 * A request header. Under @hono/node-server it is read from the IncomingMessage: `c.req.header()`
 * would first copy every header into a fetch Headers object.
 */
export function requestHeader(c: Context<AppEnv>, name: string): string | undefined {
  const incoming = c.env?.incoming;
  if (!incoming) return c.req.header(name);
  const value = incoming.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Reads a JSON body of at most `maxBytes`; 415 if it is not JSON, 413 if too long, 400 if malformed. */
export async function readJsonBody(c: Context<AppEnv>, maxBytes: number): Promise<unknown> {
  const type = requestHeader(c, 'content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send application/json (or multipart/form-data with the file)');
  }
  const declared = Number(requestHeader(c, 'content-length') ?? Number.NaN);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const body = requestBodyStream(c);
  if (!body) throw new ApiError(400, 'INVALID_JSON', 'the request has no body');
  const text = await new Promise<string>((resolve, reject) => {
    // Plain events: an async iterator per small body costs more than the body itself.
    const chunks: Buffer[] = [];
    let length = 0;
    body.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > maxBytes) {
        // Stop reading, but keep the connection: the 413 must reach the client; what still comes
        // is drained after the answer, then the connection closed (app.ts).
        body.removeAllListeners('data');
        body.pause();
        reject(tooLarge(maxBytes));
      } else chunks.push(chunk);
    });
    body.once('end', () => {
      const bytes = Buffer.concat(chunks, length);
      // Not decoded with replacement characters: a record must hold what was sent, or nothing.
      if (isUtf8(bytes)) resolve(bytes.toString('utf8'));
      else reject(new ApiError(400, 'INVALID_JSON', 'the body is not UTF-8 (RFC 8259 §8.1)'));
    });
    body.once('error', (err) => reject(new ApiError(400, 'INVALID_JSON', `the body could not be read: ${err.message}`)));
  });
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, 'INVALID_JSON', 'the body is not valid JSON');
  }
}

function tooLarge(maxBytes: number): ApiError {
  return new ApiError(413, 'PAYLOAD_TOO_LARGE', `the body is larger than ${maxBytes} bytes`);
}


