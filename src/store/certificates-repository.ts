import type { CertificateRow } from './database.js';
import type { Store } from './store.js';

export function findCertificate(store: Store, id: string): CertificateRow | undefined {
  return store.first(store.db.selectFrom('certificate').selectAll().where('id', '=', id));
}

/** The newest certificate issued for a registration. */
export function findLatestCertificate(store: Store, registrationId: number): CertificateRow | undefined {
  return store.first(
    store.db.selectFrom('certificate').selectAll().where('registration_id', '=', registrationId).orderBy('issued_at', 'desc').limit(1),
  );
}

export function insertCertificate(store: Store, row: CertificateRow): void {
  store.run(store.db.insertInto('certificate').values(row));
}
