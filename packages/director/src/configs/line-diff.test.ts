import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lineDiff } from './line-diff.ts';

describe('lineDiff', () => {
  it('marks unchanged, removed and added lines', () => {
    assert.deepEqual(
      lineDiff(['azs:', '- name: z1', 'vm_types: []'], ['azs:', '- name: z1', '- name: z2', 'vm_types: []']),
      [
        ['azs:', null],
        ['- name: z1', null],
        ['- name: z2', 'added'],
        ['vm_types: []', null],
      ],
    );
    assert.deepEqual(lineDiff(['a', 'b', 'c'], ['a', 'x', 'c']), [
      ['a', null],
      ['b', 'removed'],
      ['x', 'added'],
      ['c', null],
    ]);
  });

  it('handles empty sides', () => {
    assert.deepEqual(lineDiff([], ['a']), [['a', 'added']]);
    assert.deepEqual(lineDiff(['a'], []), [['a', 'removed']]);
    assert.deepEqual(lineDiff([], []), []);
  });

  it('keeps every line of both sides exactly once', () => {
    const before = ['a', 'b', 'c', 'd', 'e', 'f'];
    const after = ['b', 'x', 'd', 'f', 'y', 'a'];
    const diff = lineDiff(before, after);
    assert.deepEqual(
      diff.filter(([, c]) => c !== 'added').map(([l]) => l),
      before,
    );
    assert.deepEqual(
      diff.filter(([, c]) => c !== 'removed').map(([l]) => l),
      after,
    );
    assert.equal(diff.filter(([, c]) => c === null).length, 3);
  });
});
