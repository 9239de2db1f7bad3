import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deploymentHealth } from './meltdown.ts';
import { planResurrection, prettyInstances } from './resurrection-plan.ts';
import { resurrectionEnabled } from './resurrection-rules.ts';
import { UnhealthyTracker } from './unhealthy-tracker.ts';

const bosh = { minimumDownJobs: 5, percentThreshold: 0.2 };
const base = {
  deployment: 'cf',
  rules: [],
  statefulInstanceIds: new Set<string>(),
  autoFixStatefulNodes: false,
};

describe('planResurrection', () => {
  it('fixes every listed instance when managed', () => {
    const plan = planResurrection({
      ...base,
      jobsToInstanceIds: { web: ['i1'], db: ['i2'] },
      health: deploymentHealth('cf', 2, 10, bosh),
    });
    assert.deepEqual(plan, {
      kind: 'managed',
      fix: { web: ['i1'], db: ['i2'] },
      disabledByConfig: {},
      skippedStateful: {},
    });
  });
  it('does nothing but report in a meltdown', () => {
    const plan = planResurrection({
      ...base,
      jobsToInstanceIds: { web: ['a', 'b', 'c'] },
      health: deploymentHealth('cf', 5, 5, bosh),
    });
    assert.deepEqual(plan, { kind: 'meltdown', skipped: { web: ['a', 'b', 'c'] } });
  });
  it('skips groups a rule disables and stateful instances unless configured', () => {
    const input = {
      ...base,
      rules: [{ enabled: false, include: { instance_groups: ['db'] } }],
      statefulInstanceIds: new Set(['w2']),
      jobsToInstanceIds: { web: ['w1', 'w2'], db: ['d1'] },
      health: deploymentHealth('cf', 3, 20, bosh),
    };
    assert.deepEqual(planResurrection(input), {
      kind: 'managed',
      fix: { web: ['w1'] },
      disabledByConfig: { db: ['d1'] },
      skippedStateful: { web: ['w2'] },
    });
    const stateful = planResurrection({ ...input, autoFixStatefulNodes: true });
    assert.equal(stateful.kind, 'managed');
    if (stateful.kind === 'managed') assert.deepEqual(stateful.fix, { web: ['w1', 'w2'] });
  });
  it('lists instances as BOSH does', () => {
    assert.equal(prettyInstances({ web: ['a', 'b'], db: ['c'] }), 'web/a, web/b, db/c');
  });
});

describe('resurrectionEnabled', () => {
  it('is enabled without rules', () => {
    assert.equal(resurrectionEnabled([], 'cf', 'web'), true);
  });
  it('honours include and exclude filters', () => {
    const rules = [
      { enabled: false, include: { deployments: ['cf'] }, exclude: { instance_groups: ['web'] } },
    ];
    assert.equal(resurrectionEnabled(rules, 'cf', 'db'), false);
    assert.equal(resurrectionEnabled(rules, 'cf', 'web'), true);
    assert.equal(resurrectionEnabled(rules, 'other', 'db'), true);
  });
  it('applies a rule without filters to everything', () => {
    assert.equal(resurrectionEnabled([{ enabled: false }], 'any', 'thing'), false);
  });
});

describe('UnhealthyTracker', () => {
  it('counts only marks within the time threshold', () => {
    const tracker = new UnhealthyTracker();
    tracker.record('cf', { web: ['i1', 'i2'] }, 0);
    tracker.record('cf', { web: ['i3'] }, 500_000);
    const all = [
      { job: 'web', id: 'i1' },
      { job: 'web', id: 'i2' },
      { job: 'web', id: 'i3' },
      { job: 'web', id: 'i4' },
    ];
    assert.equal(tracker.count('cf', all, 600_000, 600_000), 3);
    assert.equal(tracker.count('cf', all, 600_001, 600_000), 1);
    assert.equal(tracker.count('other', all, 0, 600_000), 0);
  });
});
