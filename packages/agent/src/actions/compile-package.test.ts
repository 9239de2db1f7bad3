import assert from 'node:assert/strict';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { extractTgz } from '../archive/tgz.ts';
import { agentFixture, exe, type AgentFixture } from '../testing/fixture.ts';

describe('compile_package', () => {
  let f: AgentFixture;
  beforeEach(async () => {
    f = await agentFixture();
  });
  afterEach(() => f.close());

  it('runs packaging against the compiled dependencies and uploads the install target', async () => {
    const dep = await f.blob('dep-blob', { 'lib/greeting': 'hello' });
    const source = await f.blob('src-blob', {
      packaging: `set -e
echo "$BOSH_PACKAGE_NAME $BOSH_PACKAGE_VERSION" > $BOSH_INSTALL_TARGET/identity
cat /var/vcap/packages/greeter/lib/greeting >/dev/null 2>&1 || true
cat ${f.base}/var/vcap/packages/greeter/lib/greeting > $BOSH_INSTALL_TARGET/from-dep
cp src/main.sh $BOSH_INSTALL_TARGET/main.sh
[ "$PWD" = "$BOSH_COMPILE_TARGET" ]
`,
      'src/main.sh': exe('#!/bin/sh\necho main\n'),
    });
    const outcome = await f.call('compile_package', [
      'src-blob',
      `sha256:${source.sha256}`,
      'app',
      '1.2',
      { greeter: { name: 'greeter', version: '0.1', sha1: dep.sha1, blobstore_id: 'dep-blob' } },
    ]);
    assert.ok('value' in outcome, JSON.stringify(outcome));
    const { result } = outcome.value as { result: { blobstore_id: string; sha1: string } };
    assert.match(result.sha1, /^[0-9a-f]{40}$/);
    const out = join(f.dir, 'out');
    await mkdir(out);
    await extractTgz(join(f.blobs, result.blobstore_id), out);
    assert.deepEqual((await readdir(out)).sort(), ['from-dep', 'identity', 'main.sh']);
    assert.equal(await readFile(join(out, 'identity'), 'utf8'), 'app 1.2\n');
    assert.equal(await readFile(join(out, 'from-dep'), 'utf8'), 'hello');
  });

  it('fails with the end of the packaging output', async () => {
    const source = await f.blob('bad-src', {
      packaging: 'echo compiling\necho "cc: error: no such file" >&2\nexit 2\n',
    });
    const outcome = await f.call('compile_package', ['bad-src', source.sha1, 'app', '1', {}]);
    assert.ok('exception' in outcome);
    assert.match(outcome.exception, /Compiling package app: packaging exited 2:/);
    assert.match(outcome.exception, /cc: error: no such file/);
  });

  it('refuses a source whose digest does not match', async () => {
    await f.blob('src-3', { packaging: 'true\n' });
    const outcome = await f.call('compile_package', ['src-3', 'a'.repeat(40), 'app', '1', {}]);
    assert.ok('exception' in outcome && /sha1 digest mismatch/.test(outcome.exception));
  });
});
