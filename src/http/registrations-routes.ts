import { Hono } from 'hono';
import { isHexOfLength } from '../core/hex.js';
import { parseRegistrationInput, type RegistrationInput } from '../registry/registration-input.js';
import type { RegistrationReader } from '../registry/registration-reader.js';
import { MAX_BATCH, type RegistrationService } from '../registry/registration-service.js';
import { RegistryError } from '../registry/registry-error.js';
import { findSameRegistration, sha256Key } from '../store/registrations-repository.js';
import type { Store } from '../store/store.js';
import type { CertificateIssuer } from '../registry/certificate-issuer.js';
import type { TokenAuthenticator } from '../people/access-tokens.js';
import type { BlobStore } from '../vault/blob-store.js';
import { ApiError } from './api-error.js';
import { certificatePdfResponse, type CertificatePdfDeps } from './certificates-routes.js';
import type { AppEnv } from './app-env.js';
import { parseId, parseLimit, requirePermission } from './auth.js';
import { receiveUpload, type Upload } from './multipart-upload.js';
import { readJsonBody, requestHeader } from './request-body.js';

export interface RegistrationRoutesDeps extends CertificatePdfDeps {
  store: Store;
  certificates: CertificateIssuer;
  tokens: TokenAuthenticator;
  registrations: RegistrationService;
  reader: RegistrationReader;
  blobs: BlobStore;
  maxUploadBytes: number;
}

const UPLOAD_FIELDS = new Set(['sha256', 'sm3', 'size', 'category', 'fileName', 'title', 'mediaType', 'metadata']);
const MAX_SINGLE_BODY = 1024 * 1024;
const MAX_BATCH_BODY = 64 * 1024 * 1024;

/** `/v1/registrations`: register (hash-only JSON, file upload, batch), read, list. */
export function registrationRoutes(deps: RegistrationRoutesDeps) {
  const { registrations, reader, blobs } = deps;
  return new Hono<AppEnv>()
    .use('*', requirePermission(deps.tokens, 'registrations.read'))
    .post('/', requirePermission(deps.tokens, 'registrations.create'), async (c) => {
      const principal = c.get('principal');
      let request;
      if (/^multipart\/form-data/i.test(requestHeader(c, 'content-type') ?? '')) {
        // The same registrant's earlier hash-only registration of this content is the answer, and
        // its sealed record cannot come to say that the center holds the file: no copy is kept
        // (one would sit in the vault, and at the peers, with no registration to show for it).
        const keepFile = (input: RegistrationInput) => {
          const sha256 = Buffer.from(input.sha256, 'hex');
          return findSameRegistration(deps.store, principal.accountId, sha256, sha256Key(sha256))?.hasFile !== false;
        };
        request = { ...(await receiveUpload(c, blobs, deps.maxUploadBytes, uploadToInput, keepFile)), hasFile: true };
      } else {
        request = { ...parseRegistrationInput(await readJsonBody(c, MAX_SINGLE_BODY)), hasFile: false };
      }
      const { created, json } = await registrations.registerAsJson(principal, request);
      return c.body(json, created ? 201 : 200, { 'Content-Type': 'application/json' });
    })
    .post('/batch', requirePermission(deps.tokens, 'registrations.create'), async (c) => {
      const body = await readJsonBody(c, MAX_BATCH_BODY);
      const entries = (body as { entries?: unknown } | null)?.entries;
      if (typeof body !== 'object' || body === null || Array.isArray(body) || !Array.isArray(entries) || Object.keys(body).length !== 1) {
        throw new RegistryError('INVALID_INPUT', 'send { "entries": [ … ] } with up to 10,000 hash-only registrations');
      }
      if (entries.length > MAX_BATCH) throw new RegistryError('BATCH_TOO_LARGE', `at most ${MAX_BATCH} entries per batch; got ${entries.length}`);
      if (entries.length === 0) throw new RegistryError('EMPTY_BATCH', 'the batch has no entries');
      // All entries are checked before anything is written: one bad entry rejects the batch.
      const requests = entries.map((entry, i) => ({ ...parseRegistrationInput(entry, `entries[${i}].`), hasFile: false }));
      const { outcomes, receipt } = await registrations.registerBatch(c.get('principal'), requests);
      return c.json({ count: outcomes.length, created: outcomes.filter((o) => o.created).length, registrations: outcomes, receipt }, 201);
    })
    .get('/', (c) => {
      const limit = parseLimit(c.req.query('limit'), 100);
      const before = c.req.query('before');
      const periodId = c.req.query('period');
      const sha256 = c.req.query('sha256');
      if (sha256 !== undefined && !isHexOfLength(sha256, 32)) throw new RegistryError('INVALID_DIGEST', 'sha256 must be 64 hex digits (a SHA-256 digest)');
      return c.json({
        registrations: reader.list(c.get('principal'), {
          limit,
          ...(sha256 !== undefined && { sha256: Buffer.from(sha256, 'hex') }),
          ...(before !== undefined && { before: parseId(before, 'before') }),
          ...(periodId !== undefined && { periodId: parseId(periodId, 'period') }),
        }),
      });
    })
    .get('/:id/certificate', async (c) => {
      const issued = deps.certificates.issue(c.get('principal'), parseId(c.req.param('id'), 'registration'));
      // The public link (what a QR code opens); the certificate itself names no URL.
      c.header('Content-Location', `/v1/certificates/${issued.id}`);
      if (c.req.query('format') === 'pdf') return certificatePdfResponse(c, issued, deps);
      return c.json(issued.certificate);
    })
    .get('/:id', (c) => c.json(reader.get(c.get('principal'), parseId(c.req.param('id'), 'registration'))));
}

/** The registration fields of an upload's text parts; digests must match what was computed. */
function uploadToInput(upload: Upload) {
  const { blob, fields } = upload;
  for (const name of Object.keys(fields)) {
    if (!UPLOAD_FIELDS.has(name)) throw new RegistryError('INVALID_INPUT', `${name} is not a registration field`);
  }
  // Digests and size given beside the file are checked against it, after their own form.
  if (fields.sha256 !== undefined && !isHexOfLength(fields.sha256, 32)) throw new RegistryError('INVALID_DIGEST', 'sha256 must be 64 hex digits (a SHA-256 digest)');
  if (fields.sm3 !== undefined && !isHexOfLength(fields.sm3, 32)) throw new RegistryError('INVALID_DIGEST', 'sm3 must be 64 hex digits (an SM3 digest)');
  if (fields.size !== undefined && !/^(0|[1-9]\d{0,15})$/.test(fields.size)) throw new RegistryError('INVALID_INPUT', 'size must be a non-negative integer number of bytes');
  const given = (name: string) => fields[name]?.toLowerCase();
  if (given('sha256') !== undefined && given('sha256') !== blob.sha256) {
    throw new RegistryError('DIGEST_MISMATCH', `the file's SHA-256 is ${blob.sha256}, not the ${fields.sha256} given`);
  }
  if (given('sm3') !== undefined && given('sm3') !== blob.sm3) {
    throw new RegistryError('DIGEST_MISMATCH', `the file's SM3 is ${blob.sm3}, not the ${fields.sm3} given`);
  }
  if (fields.size !== undefined && fields.size !== String(blob.size)) {
    throw new RegistryError('DIGEST_MISMATCH', `the file has ${blob.size} bytes, not the ${fields.size} given`);
  }
  let metadata: unknown;
  if (fields.metadata !== undefined) {
    try {
      metadata = JSON.parse(fields.metadata);
    } catch {
      throw new ApiError(400, 'INVALID_JSON', 'the metadata field is not valid JSON');
    }
  }
  const fileName = fields.fileName ?? upload.fileName;
  const mediaType = fields.mediaType ?? upload.mediaType;
  return parseRegistrationInput({
    sha256: blob.sha256,
    sm3: blob.sm3,
    size: blob.size,
    category: fields.category,
    ...(fileName !== undefined && { fileName }),
    ...(fields.title !== undefined && { title: fields.title }),
    ...(mediaType !== undefined && { mediaType }),
    ...(metadata !== undefined && { metadata }),
  });
}
