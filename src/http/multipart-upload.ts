import busboy from 'busboy';
import { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { Context } from 'hono';
import { BlobTooLargeError, type BlobStore, type IngestedBlob } from '../vault/blob-store.js';
import { ApiError } from './api-error.js';
import type { AppEnv } from './app-env.js';
import { requestBodyStream, requestHeader } from './request-body.js';

export interface Upload {
  fields: Record<string, string>;
  blob: IngestedBlob;
  fileName?: string;
  mediaType?: string;
}

const MAX_FIELDS = 16;
const MAX_FIELD_BYTES = 64 * 1024;

/**
 * Streams a `multipart/form-data` request (one part named `file`, plus text fields) into the
 * blob store: hashed and written as it arrives, never held whole. `accept` turns the upload into
 * what the caller needs (the registration) once every part is in and the file's digests are
 * known, but before the file is kept: whatever it refuses, like a file over `maxBytes` (413) or a
 * malformed request, leaves nothing of the file behind. So does an accepted upload whose file
 * `keepFile` says not to keep.
 */
export async function receiveUpload<T>(
  c: Context<AppEnv>,
  blobs: BlobStore,
  maxBytes: number,
  accept: (upload: Upload) => T,
  keepFile: (accepted: T) => boolean = () => true,
): Promise<T> {
  const contentType = requestHeader(c, 'content-type') ?? '';
  const declared = Number(requestHeader(c, 'content-length') ?? Number.NaN);
  if (declared > maxBytes + MAX_FIELDS * MAX_FIELD_BYTES) throw tooLarge(maxBytes);
  const source = requestBodyStream(c);
  if (!source) throw new ApiError(400, 'INVALID_INPUT', 'the upload has no body');

  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: { 'content-type': contentType },
      limits: { files: 1, fields: MAX_FIELDS, fieldSize: MAX_FIELD_BYTES, parts: MAX_FIELDS + 1 },
      defParamCharset: 'utf8',
    });
  } catch (err) {
    throw new ApiError(400, 'INVALID_INPUT', `malformed multipart request: ${(err as Error).message}`);
  }

  const fields: Record<string, string> = {};
  let filePart: Promise<T> | undefined;
  let problem: ApiError | undefined;
  let fail: (err: unknown) => void = () => {};
  let fileStream: Readable | undefined;
  let partError: Error | undefined;

  const done = new Promise<void>((resolve, reject) => {
    fail = reject;
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) problem ??= new ApiError(400, 'INVALID_INPUT', `field ${name} is longer than ${MAX_FIELD_BYTES} bytes`);
      else if (name in fields) problem ??= new ApiError(400, 'INVALID_INPUT', `field ${name} is given twice`);
      else fields[name] = value;
    });
    parser.on('file', (name, stream, info) => {
      // A body that ends inside a part fails that part's stream as well as the parser. Unheard,
      // the stream's error ended the process (the blob store starts reading it only after it
      // has opened its file); heard, it is the request's 400 (see the catch below).
      stream.on('error', (err) => (partError ??= err));
      if (name !== 'file' || filePart) {
        problem ??= new ApiError(400, 'INVALID_INPUT', 'send exactly one file, in the part named "file"');
        stream.resume();
        return;
      }
      fileStream = stream;
      let accepted: T;
      // Parts after the file come in while it is hashed; they are all in once `done` settles.
      const acceptOnceComplete = async (blob: IngestedBlob) => {
        await done;
        if (problem) throw problem;
        accepted = accept({
          fields,
          blob,
          ...(info.filename && { fileName: info.filename }),
          ...(info.mimeType && info.mimeType !== 'application/octet-stream' && { mediaType: info.mimeType }),
        });
        return keepFile(accepted) ? undefined : ('discard' as const);
      };
      filePart = blobs.ingest(stream, { maxBytes, accept: acceptOnceComplete }).then(() => accepted);
      // A file that fails (too large, disk full) stops the whole request at once: reading the
      // rest of a multi-GiB body only to discard it would waste the center's time.
      filePart.catch((err) => {
        source.unpipe(parser);
        source.pause(); // not destroyed: the answer must still reach the client (then the rest is drained, see app.ts)
        fail(err);
      });
    });
    parser.on('filesLimit', () => (problem ??= new ApiError(400, 'INVALID_INPUT', 'send exactly one file, in the part named "file"')));
    parser.on('partsLimit', () => (problem ??= new ApiError(400, 'INVALID_INPUT', 'too many parts')));
    parser.on('fieldsLimit', () => (problem ??= new ApiError(400, 'INVALID_INPUT', 'too many fields')));
    parser.on('error', (err: Error) => reject(malformed(err)));
    parser.on('close', resolve);
  });

  // A client gone before the end: the file part would wait for bytes that never come, so it is
  // ended with the error and the blob store removes what it had written.
  const cutOff = (reason: string) => {
    const err = new ApiError(400, 'INVALID_INPUT', `the upload was cut off: ${reason}`);
    fileStream?.destroy(err);
    fail(err);
  };
  source.on('error', (err) => cutOff(err.message));
  source.on('close', () => {
    if (source instanceof IncomingMessage && !source.complete) cutOff('the connection closed before the end of the body');
  });
  source.pipe(parser);
  try {
    await done;
    if (!filePart) {
      // A part whose Content-Disposition does not parse is skipped unseen by the parser: name
      // the usual cause, or the sender is left with a message about a part it did send.
      throw problem ?? new ApiError(400, 'INVALID_INPUT', 'the upload has no part named "file" (or its Content-Disposition header is malformed: a filename*= value must percent-encode every character outside RFC 8187 attr-char, ( ) \' * included)');
    }
    return await filePart;
  } catch (err) {
    await filePart?.catch(() => {}); // the blob store has removed its file
    if (err instanceof BlobTooLargeError) throw tooLarge(maxBytes);
    if (err !== undefined && err === partError) throw malformed(partError);
    throw err;
  }
}

export function malformed(err: Error): ApiError {
  return new ApiError(400, 'INVALID_INPUT', `malformed multipart request: ${err.message}`);
}

function tooLarge(maxBytes: number): ApiError {
  return new ApiError(413, 'PAYLOAD_TOO_LARGE', `the file is larger than the limit of ${maxBytes} bytes`);
}
