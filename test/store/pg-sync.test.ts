import { describe, expect, it } from 'vitest';
import { PgSyncConnection } from '../../src/store/pg-sync.js';

// The synchronous PostgreSQL connection: every answer is its own request's, also when the
// thread's answer becomes readable only after the wake-up (a defect that once shifted every
// later answer by one under load: a registration's duplicate look-up got the id query's rows).
const URL_ = process.env.ARCHIVE_SEAL_TEST_POSTGRES_URL;

describe.skipIf(!URL_)('PgSyncConnection', () => {
  it('answers each of 20,000 statements with its own rows, plucked or not, errors included', () => {
    const pg = new PgSyncConnection(URL_!);
    try {
      for (let i = 0; i < 20_000; i++) {
        if (i % 997 === 0) {
          expect(() => pg.query('SELECT * FROM no_such_table', [])).toThrow(/no_such_table/);
          continue;
        }
        const pluck = i % 2 === 0;
        const { rows } = pg.query('SELECT $1::bigint AS n, $2::bytea AS b', [i, Buffer.from([i & 0xff])], pluck);
        if (pluck) expect(rows).toEqual([i]);
        else {
          expect(rows[0].n).toBe(i);
          expect(Buffer.isBuffer(rows[0].b) && rows[0].b[0] === (i & 0xff)).toBe(true);
        }
      }
    } finally {
      pg.close();
    }
  });
});
