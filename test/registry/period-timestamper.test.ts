import { afterEach, expect, it } from 'vitest';
import { PeriodTimestamper } from '../../src/registry/period-timestamper.js';
import type { TimestampAuthority } from '../../src/pki/timestamp-authority.js';
import { findPeriodTimestamp } from '../../src/store/anchors-repository.js';
import { Store } from '../../src/store/store.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const dir = makeTempDir();
afterEach(() => dir.remove());

function addSealedPeriod(store: Store, id: number): void {
  store.sqlite
    .prepare("INSERT INTO period (id, status, opened_at, sealed_at, leaf_count, root) VALUES (?, 'sealed', '2026-11-25T00:00:00Z', '2026-11-25T01:00:00Z', 1, ?)")
    .run(id, Buffer.alloc(32, id));
}

it('also timestamps a period sealed while a run is under way (its nudge found the run busy)', async () => {
  const store = await Store.open({ file: `${dir.path}/db.sqlite` });
  addSealedPeriod(store, 1);
  let calls = 0;
  const timestamper = new PeriodTimestamper(
    store,
    {
      async timestamp() {
        // The second period is sealed, and its nudge made, while the first one's request is out.
        await new Promise((r) => setTimeout(r, 20));
        if (++calls === 1) {
          addSealedPeriod(store, 2);
          timestamper.nudge();
          await new Promise((r) => setTimeout(r, 20));
        }
        return { token: new Uint8Array([0x30, 0x00]), genTime: new Date(), serial: calls.toString(16), tsa: 'CN=fake' };
      },
    } satisfies TimestampAuthority,
    'fake',
    () => {},
  );
  timestamper.start();
  await timestamper.idle();
  expect(calls).toBe(2);
  expect(findPeriodTimestamp(store, 1)?.serial).toBe('1');
  expect(findPeriodTimestamp(store, 2)?.serial).toBe('2');
  await timestamper.stop();
  store.close();
});
