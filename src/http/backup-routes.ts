import { Hono } from 'hono';
import type { TokenAuthenticator } from '../people/access-tokens.js';
import type { RegistrationReader } from '../registry/registration-reader.js';
import { RegistryError } from '../registry/registry-error.js';
import type { AlarmRow, PreservationEventRow } from '../store/database.js';
import { listAlarms, listDownloads, listPreservationEvents } from '../store/preservation-repository.js';
import type { Store } from '../store/store.js';
import type { BackupService } from '../vault/backup-service.js';
import { parseBackupCursor } from '../vault/backup-status.js';
import { ApiError } from './api-error.js';
import type { AppEnv } from './app-env.js';
import { parseId, parseLimit, requirePermission } from './auth.js';

export interface BackupRoutesDeps {
  store: Store;
  tokens: TokenAuthenticator;
  reader: RegistrationReader;
  backup: BackupService;
}

/**
 * `/v1/backup` (staff): where each blob's and period's verified copies are, the preservation
 * events, downloads of a registration, and audits or a replication pass on demand (admin).
 */
export function backupRoutes(deps: BackupRoutesDeps) {
  const { store, backup } = deps;
  return new Hono<AppEnv>()
    .use('*', requirePermission(deps.tokens, 'backup.read'))
    .get('/status', (c) => {
      const kind = c.req.query('kind');
      if (kind !== undefined && kind !== 'blob' && kind !== 'period') throw new ApiError(400, 'INVALID_INPUT', 'kind must be blob or period');
      const belowMinimumOnly = c.req.query('belowMinimum') === 'true' || c.req.query('belowMinimum') === '1';
      const afterValue = c.req.query('after');
      const after = afterValue === undefined ? undefined : parseBackupCursor(afterValue);
      if (afterValue !== undefined && (!after || !belowMinimumOnly)) throw new ApiError(400, 'INVALID_INPUT', 'after must be the next cursor of a belowMinimum page');
      return c.json(
        backup.status({
          limit: parseLimit(c.req.query('limit'), 100),
          ...(kind !== undefined && { kind }),
          belowMinimumOnly,
          ...(after && { after }),
        }),
      );
    })
    .get('/events', (c) => {
      const before = c.req.query('before');
      const type = c.req.query('type');
      const object = c.req.query('object');
      const outcome = c.req.query('outcome');
      const rows = listPreservationEvents(store, {
        limit: parseLimit(c.req.query('limit'), 100),
        ...(before !== undefined && { before: parseId(before, 'before') }),
        ...(type !== undefined && { eventType: type }),
        ...(object !== undefined && { objectId: object }),
        ...(outcome !== undefined && { outcome }),
      });
      return c.json({ events: rows.map(toEventView) });
    })
    .get('/downloads', (c) => {
      const id = parseId(c.req.query('registration'), 'registration');
      const after = c.req.query('after');
      const limit = parseLimit(c.req.query('limit'), 100);
      deps.reader.get(c.get('principal'), id); // NOT_FOUND when there is no such registration
      return c.json({
        downloads: listDownloads(store, id, { limit, ...(after !== undefined && { after: parseId(after, 'after') }) }).map((d) => ({
          id: d.id,
          registrationId: d.registration_id,
          accountId: d.account_id,
          startedAt: d.started_at,
          finishedAt: d.finished_at,
          outcome: d.outcome,
          bytes: d.bytes,
        })),
      });
    })
    .post('/audit', requirePermission(deps.tokens, 'backup.run'), async (c) => {
      const all = c.req.query('all') === 'true' || c.req.query('all') === '1';
      return c.json(await backup.audit({ all }));
    })
    .post('/replicate', requirePermission(deps.tokens, 'backup.run'), async (c) => {
      await backup.replicate();
      const status = backup.status({ limit: 0 });
      return c.json({ peers: status.peers, blobs: status.blobs, periods: status.periods });
    });
}

/** `/v1/alarms` (staff): open alarms, or with `all=true` the cleared ones too. */
export function alarmRoutes(deps: { tokens: TokenAuthenticator; store: Store }) {
  return new Hono<AppEnv>().use('*', requirePermission(deps.tokens, 'alarms.read')).get('/', (c) => {
    const includeCleared = c.req.query('all') === 'true' || c.req.query('all') === '1';
    const before = c.req.query('before');
    const limit = parseLimit(c.req.query('limit'), 100);
    return c.json({ alarms: listAlarms(deps.store, { limit, includeCleared, ...(before !== undefined && { before: parseId(before, 'before') }) }).map(toAlarmView) });
  });
}

/**
 * `GET /v1/registrations/:id/file`: the deposited original, for its registrant and staff (a
 * depositor asking for another's gets 404, as for an id that does not exist).
 */
export function registrationFileRoutes(deps: BackupRoutesDeps) {
  return new Hono<AppEnv>()
    .use('*', requirePermission(deps.tokens, 'registrations.read'))
    .get('/:id/file', async (c) => {
      const principal = c.get('principal');
      const view = deps.reader.get(principal, parseId(c.req.param('id'), 'registration'));
      if (view.record.deposit !== 'file') {
        throw new RegistryError('NOT_FOUND', `registration ${view.id} is hash-only: the center holds no file for it`);
      }
      return deps.backup.download(principal, view);
    });
}

function toEventView(e: PreservationEventRow) {
  return {
    id: e.id,
    eventType: e.event_type,
    eventDateTime: e.event_at,
    object: { kind: e.object_kind, id: e.object_id },
    copy: e.copy,
    agent: e.agent,
    outcome: e.outcome,
    detail: e.detail,
  };
}

function toAlarmView(a: AlarmRow) {
  return {
    id: a.id,
    kind: a.kind,
    subject: a.subject,
    message: a.message,
    raisedAt: a.raised_at,
    lastSeenAt: a.last_seen_at,
    count: a.count,
    clearedAt: a.cleared_at,
  };
}
