import { Hono } from 'hono';
import { RegistryError } from '../registry/registry-error.js';
import { ApiError, PEOPLE_ERROR_STATUS, REGISTRY_ERROR_STATUS } from './api-error.js';
import { PeopleError } from '../people/people-error.js';
import type { AppEnv } from './app-env.js';
import { categoryRoutes } from './categories-routes.js';
import { periodRoutes } from './periods-routes.js';
import { registrationRoutes, type RegistrationRoutesDeps } from './registrations-routes.js';
import { tokenRoutes } from './tokens-routes.js';
import { unitRoutes } from './units-routes.js';
import { userRoutes } from './users-routes.js';
import { sessionRoutes } from './session-routes.js';
import type { UnitService } from '../people/unit-service.js';
import type { UserService } from '../people/user-service.js';
import type { SessionService } from '../people/session-service.js';
import type { TokenService } from '../people/token-service.js';
import type { PeriodSealer } from '../registry/period-sealer.js';
import type { AnchoringService } from '../anchor/anchoring-service.js';
import type { BuiltInTimestampAuthority } from '../pki/timestamp-authority.js';
import { chainRoutes } from './chains-routes.js';
import { certificateRoutes, trustRootRoutes, verifyRoutes } from './certificates-routes.js';
import type { RegistryCheck } from '../registry/registry-check.js';
import type { CenterPki } from '../pki/center-pki.js';
import type { CertificatePdfs } from '../registry/certificate-pdfs.js';
import { createTsaRoutes } from './tsa-routes.js';
import { webRoutes } from './web-routes.js';
import { homeRoutes } from './home-routes.js';
import type { BackupService } from '../vault/backup-service.js';
import { VaultError } from '../vault/vault-error.js';
import { alarmRoutes, backupRoutes, registrationFileRoutes } from './backup-routes.js';
import { VAULT_ERROR_STATUS } from './peer-routes.js';

export interface AppDeps extends RegistrationRoutesDeps {
  sealer: PeriodSealer;
  anchoring: AnchoringService;
  /** The center's own RFC 3161 TSA, served at POST /tsa. */
  tsa: BuiltInTimestampAuthority;
  pki: CenterPki;
  /** Who the center is, as its verifier page and certificate PDFs name it. */
  center: { id: string; name: string };
  /** ARCHIVE_SEAL_PUBLIC_URL: the base of the links the center hands out; undefined: the request's origin. */
  publicUrl: string | undefined;
  /** The signed certificate PDFs. */
  certificatePdfs: CertificatePdfs;
  /** The vault, replication, audits and alarms. */
  backup: BackupService;
  /** Compares a certificate naming this center with its registry (POST /v1/verify). */
  registryCheck: RegistryCheck;
  /** Roots for the timestamp tokens when they come from an outside TSA. */
  timestampTrustRoots?: readonly string[];
  /** Units, users, sessions and tokens (src/people). */
  units: UnitService;
  users: UserService;
  sessions: SessionService;
  tokenService: TokenService;
  log: (line: string) => void;
}

/** The HTTP API: one sub-app per resource, errors mapped once, in `onError`. */
export function createApp(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.route('/v1/categories', categoryRoutes());
  app.route('/v1/registrations', registrationFileRoutes(deps));
  app.route('/v1/registrations', registrationRoutes(deps));
  app.route('/v1/backup', backupRoutes(deps));
  app.route('/v1/alarms', alarmRoutes(deps));
  app.route('/v1/periods', periodRoutes(deps));
  app.route('/v1/tokens', tokenRoutes(deps));
  app.route('/v1/units', unitRoutes(deps));
  app.route('/v1/users', userRoutes(deps));
  app.route('/v1/session', sessionRoutes(deps));
  app.route('/v1/chains', chainRoutes(deps));
  app.route('/v1/certificates', certificateRoutes(deps));
  app.route('/v1/verify', verifyRoutes(deps));
  app.route('/v1/trust-roots', trustRootRoutes(deps));
  app.route('/tsa', createTsaRoutes(deps.tsa));
  app.route('/verify', webRoutes(deps));
  app.route('/', homeRoutes(deps));

  app.notFound((c) => c.json({ error: { code: 'ROUTE_NOT_FOUND', message: `no route ${c.req.method} ${c.req.path}` } }, 404));
  app.onError((err, c) => {
    // A refused upload may still be arriving. The connection is not closed with the answer: a
    // socket closed with unread data sends a reset, which can discard the answer before the client
    // reads it. @hono/node-server reads and drops what still comes, at most 64 MiB or 500 ms,
    // then closes.
    if (err instanceof ApiError) return c.json({ error: { code: err.code, message: err.message } }, err.status);
    if (err instanceof PeopleError) {
      if (err.code === 'ACCOUNT_LOCKED' && err.retryAfterSeconds !== undefined) c.header('Retry-After', String(err.retryAfterSeconds));
      return c.json({ error: { code: err.code, message: err.message } }, PEOPLE_ERROR_STATUS[err.code]);
    }
    if (err instanceof RegistryError) {
      return c.json({ error: { code: err.code, message: err.message } }, REGISTRY_ERROR_STATUS[err.code]);
    }
    if (err instanceof VaultError && VAULT_ERROR_STATUS[err.code] < 500) {
      return c.json({ error: { code: err.code, message: err.message } }, VAULT_ERROR_STATUS[err.code]);
    }
    if (err instanceof VaultError && (err.code === 'BLOB_NOT_FOUND' || err.code === 'BLOB_CORRUPT')) {
      const message = 'the original is not available from the vault right now (missing or failed its check); the center has raised an alarm and repairs it from a peer\'s copy';
      return c.json({ error: { code: err.code, message } }, VAULT_ERROR_STATUS[err.code]);
    }
    deps.log(`internal error on ${c.req.method} ${c.req.path}: ${(err as Error).stack ?? String(err)}`);
    return c.json({ error: { code: 'INTERNAL', message: 'internal error; the center has logged it' } }, 500);
  });
  return app;
}
