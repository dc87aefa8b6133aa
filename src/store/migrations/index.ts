import type { Migration } from 'kysely';
import * as initial from './2026-11-25T0000-initial.js';
import * as timestampsAnchors from './2026-11-25T1000-timestamps-anchors.js';
import * as certificates from './2026-11-25T1200-certificates.js';
import * as vault from './2026-11-25T1100-vault.js';
import * as leafHashIndex from './2026-12-04T1800-leaf-hash-index.js';
import * as fileRegistrationIndex from './2026-12-06T0300-file-registration-index.js';
import * as sha256KeyIndex from './2026-12-07T2300-sha256-key-index.js';
import * as accountNamesNotUnique from './2026-12-08T0000-account-names-not-unique.js';
import * as replicaSignature from './2026-12-07T2300-replica-signature.js';
import * as listIndexes from './2026-12-08T0000-list-indexes.js';
import * as timestampRenewals from './2026-12-07T2300-timestamp-renewals.js';
import * as copyCounts from './2026-12-08T0300-copy-counts.js';
import * as postgresRowids from './2026-12-08T0250-postgres-rowids.js';
import * as units from './2026-12-08T0300-units.js';
import * as people from './2026-12-08T0400-people.js';

/** Every migration, by its timestamped name; a static map so it works from `dist` and from tests. */
export const MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '2026-11-25T0000-initial': initial,
  '2026-11-25T1000-timestamps-anchors': timestampsAnchors,
  '2026-11-25T1200-certificates': certificates,
  '2026-11-25T1100-vault': vault,
  '2026-12-04T1800-leaf-hash-index': leafHashIndex,
  '2026-12-06T0300-file-registration-index': fileRegistrationIndex,
  '2026-12-07T2300-sha256-key-index': sha256KeyIndex,
  '2026-12-08T0000-account-names-not-unique': accountNamesNotUnique,
  '2026-12-07T2300-replica-signature': replicaSignature,
  '2026-12-08T0000-list-indexes': listIndexes,
  '2026-12-07T2300-timestamp-renewals': timestampRenewals,
  '2026-12-08T0300-copy-counts': copyCounts,
  '2026-12-08T0250-postgres-rowids': postgresRowids,
  '2026-12-08T0300-units': units,
  '2026-12-08T0400-people': people,
});
