import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBuildArgs } from './build-args.ts';
import { initScript } from './init-script.ts';

describe('refit-stemcell build --heartbeat-interval', () => {
  const base = ['--name', 'n', '--version', '1', '--os', 'o', '--out', '/tmp/x', '--base', 'minimal'];

  it("defaults to BOSH's 30 s and reaches the agent's command line in refit-init", () => {
    assert.equal(parseBuildArgs(base, {}).heartbeatSeconds, 30);
    assert.equal(parseBuildArgs([...base, '--heartbeat-interval', '5'], {}).heartbeatSeconds, 5);
    assert.match(initScript(5), /refit-agent --settings "\$settings" --heartbeat-interval 5 /);
    assert.match(initScript(), /--heartbeat-interval 30 /);
  });
});
