import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CloudConfigItem, ConfigItem, DiffAnswer, ErrorBody, EventItem } from '@refit/protocol';
import {
  directorBackends,
  startDirector,
  type DirectorProcess,
} from '../../packages/director/src/api/director-process.test-support.ts';

const CLOUD_V1 = 'azs:\n- name: z1\nvm_types:\n- name: default\n';
const CLOUD_V2 = 'azs:\n- name: z1\n- name: z2\nvm_types:\n- name: default\n';

for (const backend of directorBackends()) {
  describe(`director core configs (${backend.name})`, { skip: backend.skip }, () => {
    let env: Awaited<ReturnType<typeof backend.setup>>;
    let director: DirectorProcess;
    before(async () => {
      env = await backend.setup();
      director = await startDirector({
        stateDir: env.stateDir,
        ...(env.configFile === undefined ? {} : { configFile: env.configFile }),
      });
    });
    after(async () => {
      await director?.stop();
      await env?.cleanup();
    });
    const yaml = { 'Content-Type': 'text/yaml' };

    it('round-trips a cloud config the way update-cloud-config and cloud-config do', async () => {
      const empty = await director.request({ path: '/cloud_configs?limit=1&name=' });
      assert.equal(empty.status, 200);
      assert.deepEqual(empty.json(), []);
      const firstDiff = DiffAnswer.parse(
        (
          await director.request({
            method: 'POST',
            path: '/cloud_configs/diff?name=default',
            body: CLOUD_V1,
            headers: yaml,
          })
        ).json(),
      );
      assert.ok(firstDiff.diff.length > 0 && firstDiff.diff.every(([, change]) => change === 'added'));
      const posted = await director.request({
        method: 'POST',
        path: '/cloud_configs?name=default',
        body: CLOUD_V1,
        headers: yaml,
      });
      assert.equal(posted.status, 201);
      const diff = DiffAnswer.parse(
        (
          await director.request({
            method: 'POST',
            path: '/cloud_configs/diff?name=default',
            body: CLOUD_V2,
            headers: yaml,
          })
        ).json(),
      );
      assert.deepEqual(
        diff.diff.filter(([, change]) => change !== null),
        [['- name: z2', 'added']],
      );
      assert.equal(
        (
          await director.request({
            method: 'POST',
            path: '/cloud_configs?name=default',
            body: CLOUD_V2,
            headers: yaml,
          })
        ).status,
        201,
      );
      const latest = CloudConfigItem.array().parse(
        (await director.request({ path: '/cloud_configs?limit=1&name=' })).json(),
      );
      assert.equal(latest.length, 1);
      assert.equal(latest[0]?.properties, CLOUD_V2);
      assert.match(latest[0]?.created_at ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
      assert.equal(
        CloudConfigItem.array().parse(
          (await director.request({ path: '/cloud_configs?limit=10&name=default' })).json(),
        ).length,
        2,
      );
      const events = EventItem.array().parse(
        (await director.request({ path: '/events?object_type=cloud-config' })).json(),
      );
      assert.deepEqual(
        events.map((e) => [e.action, e.object_name, e.user]),
        [
          ['update', 'default', 'admin'],
          ['update', 'default', 'admin'],
        ],
      );
    });

    it('refuses a cloud config listing without limit, and YAML that is not a hash', async () => {
      const noLimit = await director.request({ path: '/cloud_configs?name=default' });
      assert.equal(noLimit.status, 400);
      assert.equal(ErrorBody.parse(noLimit.json()).code, 40001);
      for (const body of ['', '- a\n- b\n', 'a: [\n']) {
        const bad = await director.request({
          method: 'POST',
          path: '/cloud_configs?name=default',
          body,
          headers: yaml,
        });
        assert.equal(bad.status, 400, JSON.stringify(body));
        assert.equal(ErrorBody.parse(bad.json()).code, 40003);
      }
    });

    it('versions generic configs, answering 412 on a stale expected_latest_id', async () => {
      assert.deepEqual((await director.request({ path: '/configs?type=runtime&latest=true' })).json(), []);
      const create = (content: string, expected?: string) =>
        director.request({
          method: 'POST',
          path: '/configs',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({
            type: 'runtime',
            name: 'dns',
            content,
            ...(expected === undefined ? {} : { expected_latest_id: expected }),
          }),
        });
      const first = await create('addons: []\n');
      assert.equal(first.status, 201);
      const firstItem = ConfigItem.parse(first.json());
      const second = await create('addons: [{name: x}]\n', firstItem.id);
      assert.equal(second.status, 201);
      const stale = await create('addons: [{name: y}]\n', firstItem.id);
      assert.equal(stale.status, 412);
      assert.equal(ErrorBody.parse(stale.json()).code, 440013);
      const listed = ConfigItem.array().parse(
        (await director.request({ path: '/configs?type=runtime&latest=true' })).json(),
      );
      assert.deepEqual(
        listed.map((c) => [c.name, c.content, c.current]),
        [['dns', 'addons: [{name: x}]\n', true]],
      );
      const history = ConfigItem.array().parse(
        (await director.request({ path: '/configs?type=runtime&latest=false&limit=10' })).json(),
      );
      assert.equal(history.length, 2);
      const diff = DiffAnswer.parse(
        (
          await director.request({
            method: 'POST',
            path: '/configs/diff',
            body: JSON.stringify({ from: { id: firstItem.id }, to: { id: history[0]?.id } }),
          })
        ).json(),
      );
      assert.ok(diff.diff.some(([, change]) => change === 'added'));
      assert.equal(
        (await director.request({ method: 'DELETE', path: '/configs?type=runtime&name=dns' })).status,
        204,
      );
      assert.deepEqual((await director.request({ path: '/configs?type=runtime' })).json(), []);
      const gone = await director.request({ method: 'DELETE', path: '/configs?type=runtime&name=dns' });
      assert.equal(gone.status, 404);
      assert.equal(ErrorBody.parse(gone.json()).code, 440012);
    });
  });
}
