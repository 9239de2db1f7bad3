import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ipReservationsMigration } from '../db/migrations/005-ip-reservations.ts';
import { testBackends, type TestDatabase } from '../db/test-databases.ts';
import type { IpReservation } from '../planner/plan-types.ts';
import { DbIpReservationStore, IpAddressInUse } from './ip-reservation-store.ts';

const r = (
  deployment: string,
  instanceId: string,
  ip: string,
  type: 'static' | 'dynamic' = 'dynamic',
): IpReservation => ({
  deployment,
  instanceId,
  network: 'default',
  ip,
  type,
});

for (const backend of testBackends()) {
  describe(`DbIpReservationStore on ${backend.name}`, { skip: backend.skip }, () => {
    let database: TestDatabase;
    let store: DbIpReservationStore;
    before(async () => {
      database = await backend.create({ migrations: [ipReservationsMigration] });
      store = new DbIpReservationStore(database.db, () => new Date('2026-01-01T00:00:00Z'));
    });
    after(() => database.cleanup());

    it('adds, lists per deployment and for the others, releases', async () => {
      await store.apply({
        add: [r('a', 'i1', '127.1.0.30'), r('a', 'i2', '127.1.0.10', 'static'), r('b', 'j1', '127.1.0.31')],
        release: [],
      });
      assert.deepEqual(await store.forDeployment('a'), [
        r('a', 'i2', '127.1.0.10', 'static'),
        r('a', 'i1', '127.1.0.30'),
      ]);
      assert.deepEqual(await store.ofOtherDeployments('a'), [r('b', 'j1', '127.1.0.31')]);
      await store.apply({ add: [r('a', 'i1', '127.1.0.32')], release: [r('a', 'i1', '127.1.0.30')] });
      assert.deepEqual(
        (await store.forDeployment('a')).map((x) => x.ip),
        ['127.1.0.10', '127.1.0.32'],
      );
    });

    it('re-adding what the same instance holds is a no-op', async () => {
      await store.apply({ add: [r('a', 'i2', '127.1.0.10', 'static')], release: [] });
      assert.equal((await store.forDeployment('a')).length, 2);
    });

    it('an address held by another instance fails the whole change', async () => {
      await assert.rejects(
        store.apply({ add: [r('c', 'k1', '127.1.0.40'), r('c', 'k2', '127.1.0.31')], release: [] }),
        (error: unknown) =>
          error instanceof IpAddressInUse && /127\.1\.0\.31.*deployment 'b'/.test(error.message),
      );
      assert.deepEqual(await store.forDeployment('c'), [], 'the first add was rolled back');
    });

    it('releases an instance and a deployment', async () => {
      assert.equal(await store.releaseInstance('a', 'i1'), 1);
      assert.equal(await store.releaseDeployment('a'), 1);
      assert.deepEqual(await store.forDeployment('a'), []);
      assert.equal((await store.ofOtherDeployments('a')).length, 1);
    });
  });
}
