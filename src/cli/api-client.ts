import { createReadStream } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import { CliError, describeFileError } from './cli-error.js';

/** Talks to a running center over its HTTP API, turning `{ error }` answers into `CliError`s. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string | undefined,
  ) {}

  /** A JSON request; resolves to the parsed answer, rejects with the server's error message. */
  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const { status, text } = await this.send(method, path, body === undefined ? undefined : {
      type: 'application/json',
      parts: [Buffer.from(JSON.stringify(body))],
    });
    return parseAnswer<T>(status, text);
  }

  /**
   * Uploads one file as multipart/form-data, streaming it from disk. `created` is false when the
   * center already had this content from this registrant (it answers 200 instead of 201).
   */
  async upload<T>(
    path: string,
    filePath: string,
    size: number,
    fields: Record<string, string>,
  ): Promise<{ created: boolean; body: T }> {
    const boundary = `----archive-seal-${randomBytes(12).toString('hex')}`;
    const head = Object.entries(fields)
      .map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`)
      .join('');
    // filename= for parsers that know no other (quote, backslash and line breaks replaced: they
    // would end or escape the quoted string); filename*= (RFC 8187) is the exact name, and wins.
    const fileName = basename(filePath).replace(/["\\\r\n]/g, '_');
    const preamble = Buffer.from(
      `${head}--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"; filename*=UTF-8''${encodeExtValue(basename(filePath))}\r\n` +
        'Content-Type: application/octet-stream\r\n\r\n',
    );
    const epilogue = Buffer.from(`\r\n--${boundary}--\r\n`);
    const { status, text } = await this.send('POST', path, {
      type: `multipart/form-data; boundary=${boundary}`,
      parts: [preamble, { file: filePath, size }, epilogue],
    });
    return { created: status === 201, body: parseAnswer<T>(status, text) };
  }

  private send(
    method: string,
    path: string,
    body?: { type: string; parts: (Buffer | { file: string; size: number })[] },
  ): Promise<{ status: number; text: string }> {
    const url = new URL(path, this.baseUrl);
    const headers: Record<string, string | number> = { accept: 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body) {
      headers['content-type'] = body.type;
      headers['content-length'] = body.parts.reduce((n, p) => n + (Buffer.isBuffer(p) ? p.length : p.size), 0);
    }
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      let answered = false; // the server may answer (e.g. 413) before the whole body is sent
      const req = request(url, { method, headers }, (res: IncomingMessage) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (!req.writableEnded) req.destroy(); // answered early: stop sending the rest
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', reject);
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (answered) return;
        reject(new CliError(`cannot reach ${this.baseUrl}: ${err.code ?? err.message}`));
      });
      void (async () => {
        for (const part of body?.parts ?? []) {
          if (answered) break;
          if (Buffer.isBuffer(part)) {
            if (!req.write(part)) await new Promise((r) => req.once('drain', r));
          } else {
            try {
              for await (const chunk of createReadStream(part.file, { highWaterMark: 1 << 20 })) {
                if (answered) break;
                if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
              }
            } catch (err) {
              // The file, not the server, failed: say so rather than "cannot reach".
              throw new CliError(`cannot read ${part.file}: ${describeFileError(err)}`);
            }
          }
        }
        if (!answered) req.end();
      })().catch((err) => {
        if (err instanceof CliError && !answered) reject(err);
        req.destroy(err instanceof CliError ? undefined : err);
      });
    });
  }
}

function parseAnswer<T>(status: number, text: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CliError(`the server answered ${status} with something that is not JSON`);
  }
  if (status >= 400) {
    const error = (value as { error?: { code?: string; message?: string } }).error;
    throw new CliError(`${error?.code ?? `HTTP ${status}`}: ${error?.message ?? 'request failed'}`);
  }
  return value as T;
}

/**
 * An RFC 8187 ext-value (`UTF-8''…`): every byte outside attr-char percent-encoded.
 * encodeURIComponent leaves ( ) ' * as they are, which attr-char does not allow: a multipart
 * parser then drops the whole part (迁移登记册(2024).xlsx was "no part named file").
 */
export function encodeExtValue(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
