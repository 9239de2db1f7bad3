// The demo's sample release: one job `web` whose process appends a line naming the OS it runs on
// (from /etc/os-release) every 2 s, keeps a data file on the persistent disk, and has a drain
// script that records when it ran.
import { buildRelease } from '@refit/testkit/release/build-release.ts';

export const RELEASE = { name: 'quick-app', version: '1' } as const;

const ctl = `#!/bin/sh
RUN=/var/vcap/sys/run/web
LOG=/var/vcap/sys/log/web
STORE=/var/vcap/store/web
case "$1" in
  start)
    mkdir -p "$RUN" "$LOG" "$STORE"
    # The data the demo checksums across the reload: written once, on the first start.
    [ -f "$STORE/data" ] || head -c 1048576 /dev/urandom > "$STORE/data"
    OS=$(sed -n 's/^PRETTY_NAME=//p' /etc/os-release | tr -d '"')
    echo "$(date -u +%FT%TZ) web/<%= spec.index %> started on $OS" >> "$STORE/history"
    /bin/sh -c 'while :; do echo "$(date -u +%T) web/<%= spec.index %> serving on '"$OS"'"; sleep 2; done' \\
      quick-web-<%= spec.id %> </dev/null >>"$LOG/web.log" 2>&1 &
    echo $! > "$RUN/web.pid"
    ;;
  stop)
    [ -f "$RUN/web.pid" ] && kill "$(cat "$RUN/web.pid")" 2>/dev/null
    rm -f "$RUN/web.pid"
    ;;
esac
`;

const drain = `#!/bin/sh
mkdir -p /var/vcap/sys/log/web
echo "$(date -u +%FT%TZ) drain $*" >> /var/vcap/sys/log/web/drain.log
echo 0
`;

/** The release tarball (deterministic: same bytes on every run). */
export async function sampleRelease(): Promise<Buffer> {
  const built = await buildRelease({
    name: RELEASE.name,
    version: RELEASE.version,
    jobs: [
      {
        name: 'web',
        monit:
          'check process web\n  with pidfile /var/vcap/sys/run/web/web.pid\n' +
          '  start program "/var/vcap/jobs/web/bin/ctl start"\n' +
          '  stop program "/var/vcap/jobs/web/bin/ctl stop"\n  group vcap\n',
        templates: { 'ctl.erb': ctl, 'drain.erb': drain },
        destinations: { 'ctl.erb': 'bin/ctl', 'drain.erb': 'bin/drain' },
      },
    ],
  });
  return built.tarball;
}
