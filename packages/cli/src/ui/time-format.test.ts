import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatBytes, formatDuration, formatFullTime, formatHours } from './time-format.ts';

describe('time and size formats', () => {
  it('formats times as the stock CLI, in UTC with a space-padded day', () => {
    assert.equal(formatFullTime(1478564798), 'Tue Nov  8 00:26:38 UTC 2016');
    assert.equal(formatFullTime(0), 'Thu Jan  1 00:00:00 UTC 1970');
    assert.equal(formatHours(1454193505), '22:38:25');
  });

  it('formats durations as HH:MM:SS', () => {
    assert.equal(formatDuration(59), '00:00:59');
    assert.equal(formatDuration(69), '00:01:09');
    assert.equal(formatDuration(3669), '01:01:09');
  });

  it('formats sizes as go-humanize IBytes', () => {
    assert.equal(formatBytes(5), '5 B');
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(12_345_678), '12 MiB');
    assert.equal(formatBytes(1024 ** 3), '1.0 GiB');
  });
});
