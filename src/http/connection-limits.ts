import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * How long the center waits for what a client sends. Node's default (`requestTimeout`, 5 minutes
 * for a whole request) answered 408 to any upload slower than that: a 2 GiB file needed 7 MB/s.
 * Instead, a request may take as long as its data keeps coming, and what does not come is cut:
 */
export interface ConnectionLimits {
  /** The request line and headers must be in within this (a slow-loris sending them byte by byte, or a connection that sends nothing). */
  headersTimeoutMs: number;
  /** While a body is being received: in every window this long, at least `minBodyBytesPerSecond` × the window must arrive. */
  bodyTimeoutMs: number;
  /** The floor rate of a body, in bytes per second (0: any progress will do). */
  minBodyBytesPerSecond: number;
}

/** The options a server is created with: no limit on a whole request; the headers' limit, checked often enough for it. */
export function connectionServerOptions(limits: ConnectionLimits): Pick<ServerOptions, 'requestTimeout' | 'headersTimeout' | 'connectionsCheckingInterval'> {
  return {
    requestTimeout: 0,
    headersTimeout: limits.headersTimeoutMs,
    connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.floor(limits.headersTimeoutMs / 4))),
  };
}

interface Receiving {
  req: IncomingMessage;
  res: ServerResponse;
  windowStart: number;
  bytesAtWindowStart: number;
}

/**
 * Watches the bodies `server` receives (see ConnectionLimits) and answers the errors Node answers
 * itself (headers too slow or too large, a malformed request) with the center's JSON error body.
 * Stops with the server.
 */
export function watchConnections(server: Server, limits: ConnectionLimits): void {
  const receiving = new Set<Receiving>();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.complete) return;
    const entry: Receiving = { req, res, windowStart: Date.now(), bytesAtWindowStart: req.socket.bytesRead };
    receiving.add(entry);
    const done = () => receiving.delete(entry);
    req.once('end', done);
    req.once('close', done);
    res.once('finish', done);
    res.once('close', done);
  });
  const check = () => {
    const now = Date.now();
    for (const entry of receiving) {
      const { req, res } = entry;
      const socket = req.socket as Socket | null;
      if (req.complete || res.headersSent || !socket || socket.destroyed) {
        receiving.delete(entry);
        continue;
      }
      // Data the center has not read yet (its disk or its handler is slower than the client):
      // the wait is the center's, not the client's.
      if (req.readableLength > 0 || req.readableFlowing === false) {
        entry.windowStart = now;
        entry.bytesAtWindowStart = socket.bytesRead;
        continue;
      }
      const elapsed = now - entry.windowStart;
      if (elapsed < limits.bodyTimeoutMs) continue;
      const arrived = socket.bytesRead - entry.bytesAtWindowStart;
      if (arrived > 0 && arrived >= (limits.minBodyBytesPerSecond * elapsed) / 1000) {
        entry.windowStart = now;
        entry.bytesAtWindowStart = socket.bytesRead;
        continue;
      }
      receiving.delete(entry);
      const message =
        arrived === 0
          ? `no part of the body arrived for ${Math.round(elapsed / 1000)} s`
          : `the body arrived at ${Math.round((arrived * 1000) / elapsed)} bytes/s, below the center's floor of ${limits.minBodyBytesPerSecond} bytes/s`;
      answerAndClose(socket, 408, 'REQUEST_TIMEOUT', `${message}; send it again`);
    }
  };
  const timer = setInterval(check, Math.min(1000, Math.max(50, Math.floor(limits.bodyTimeoutMs / 4)))).unref();
  server.once('close', () => clearInterval(timer));

  // What Node itself refuses (before any handler runs) would go out as a bare status line.
  server.on('clientError', (err: Error & { code?: string }, socket: Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') answerAndClose(socket, 408, 'REQUEST_TIMEOUT', 'the request line and headers did not arrive in time');
    else if (err.code === 'HPE_HEADER_OVERFLOW') answerAndClose(socket, 431, 'HEADERS_TOO_LARGE', 'the request headers are too large');
    else answerAndClose(socket, 400, 'MALFORMED_REQUEST', 'the request is not well-formed HTTP/1.1');
  });
}

/** Writes a JSON error straight to the socket (where Node writes its own 408), then closes it. */
function answerAndClose(socket: Socket, status: number, code: string, message: string): void {
  const httpMessage = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (!socket.writable || httpMessage?.headersSent) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ error: { code, message } });
  const reason = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' }[status] ?? 'Error';
  const head = `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
  // Ended, not destroyed at once: a reset could discard the answer before the client reads it.
  socket.end(head + body);
  setTimeout(() => socket.destroy(), 1000).unref();
}
