import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AgentError } from '../errors.ts';
import { parseMonitFile, splitProgram, startOrder } from './monit-file.ts';

const NGINX = `check process nginx
  with pidfile /var/vcap/sys/run/nginx/nginx.pid
  start program "/var/vcap/jobs/nginx/bin/ctl start" with timeout 60 seconds
  stop program "/var/vcap/jobs/nginx/bin/ctl stop"
  group vcap
  depends on router, cache
  if failed port 80 protocol http then restart
  if totalmem > 100 MB for 5 cycles then alert
  mode manual

# a second process, written on one line
check process router with pidfile /r.pid start program = "/bin/bash -c '/r/ctl start'" as uid vcap and gid vcap stop program = "/r/ctl stop" group vcap
check process cache
  with pidfile /c.pid
  start program "/c start"
  stop program "/c stop"
  group vcap
`;

describe('parseMonitFile', () => {
  it('reads check process blocks as BOSH releases write them', () => {
    const parsed = parseMonitFile(NGINX, 'jobs/nginx/monit');
    assert.deepEqual(
      parsed.processes.map((p) => [
        p.name,
        p.pidfile,
        p.start.argv,
        p.start.timeoutSeconds,
        p.stop?.argv,
        p.group,
        p.dependsOn,
        p.line,
      ]),
      [
        [
          'nginx',
          '/var/vcap/sys/run/nginx/nginx.pid',
          ['/var/vcap/jobs/nginx/bin/ctl', 'start'],
          60,
          ['/var/vcap/jobs/nginx/bin/ctl', 'stop'],
          'vcap',
          ['router', 'cache'],
          1,
        ],
        ['router', '/r.pid', ['/bin/bash', '-c', '/r/ctl start'], 30, ['/r/ctl', 'stop'], 'vcap', [], 12],
        ['cache', '/c.pid', ['/c', 'start'], 30, ['/c', 'stop'], 'vcap', [], 13],
      ],
    );
    assert.ok(parsed.ignored.some((n) => n.includes("jobs/nginx/monit:7: 'if … then restart' ignored")));
    assert.ok(parsed.ignored.some((n) => n.includes("'mode manual' ignored")));
  });

  it('orders processes after their dependencies', () => {
    const order = startOrder(parseMonitFile(NGINX, 'm').processes).map((p) => p.name);
    assert.deepEqual(order, ['router', 'cache', 'nginx']);
  });

  const errors: [string, string, RegExp][] = [
    [
      'unknown statement',
      'check process a\n  with pidfile /a\n  start program "/a"\n  frobnicate now\n',
      /^m:4: monit syntax error: unexpected 'frobnicate'/,
    ],
    [
      'unterminated string',
      'check process a\n  with pidfile /a\n  start program "/a\n',
      /^m:3: monit syntax error: unterminated string/,
    ],
    ['no pidfile', 'check process a\n  start program "/a"\n', /^m:1: .*has no pidfile/],
    ['no start program', 'check process a\n  with pidfile /a\n', /^m:1: .*has no start program/],
    [
      'unquoted program',
      'check process a\n with pidfile /a\n start program /a\n',
      /^m:3: .*must be a quoted string/,
    ],
    [
      'bad timeout',
      'check process a\n with pidfile /a\n start program "/a" with timeout many seconds\n',
      /^m:3: .*timeout must be a number/,
    ],
    ['garbage before check', 'hello\n', /^m:1: .*expected 'check'/],
    [
      'if without then',
      'check process a\n with pidfile /a\n start program "/a"\n if failed port 80\n',
      /^m:4: .*expected 'then' for the 'if' of line 4/,
    ],
  ];
  for (const [name, text, pattern] of errors) {
    it(`names the file and line: ${name}`, () => {
      assert.throws(
        () => parseMonitFile(text, 'm'),
        (error: unknown) =>
          error instanceof AgentError && error.code === 'monit_syntax' && pattern.test(error.message),
      );
    });
  }

  it('refuses unknown dependencies and cycles, naming the declaring line', () => {
    const unknown = parseMonitFile(
      'check process a with pidfile /a start program "/a" depends on ghost\n',
      'f',
    );
    assert.throws(
      () => startOrder(unknown.processes),
      /^AgentError: f:1: .*depends on unknown service 'ghost'/,
    );
    const cycle = parseMonitFile(
      'check process a with pidfile /a start program "/a" depends on b\ncheck process b with pidfile /b start program "/b" depends on a\n',
      'f',
    );
    assert.throws(() => startOrder(cycle.processes), /dependency cycle: a -> b -> a/);
  });

  it('splits program strings like monit, with quote grouping', () => {
    assert.deepEqual(splitProgram(`/bin/sh -c 'exec x >> "log" 2>&1'`), [
      '/bin/sh',
      '-c',
      'exec x >> "log" 2>&1',
    ]);
    assert.deepEqual(splitProgram('  /a   b  '), ['/a', 'b']);
  });
});
