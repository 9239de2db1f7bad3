import { createGzip } from 'node:zlib';
import tar from 'tar-stream';

/** A unique word on the job process's command line, so the test can find it on the host. */
export function tickerMarker(tag: string): string {
  return `refit-ticker-${tag}`;
}

/**
 * The rendered templates archive of a tiny release job `ticker`: a monit file as real releases
 * write it and a ctl script that starts a long-running process with a pidfile.
 */
export function tickerFiles(tag: string): Record<string, { mode: number; text: string }> {
  const marker = tickerMarker(tag);
  return {
    'ticker/monit': {
      mode: 0o644,
      text: `check process ticker
  with pidfile /var/vcap/sys/run/ticker/ticker.pid
  start program "/var/vcap/jobs/ticker/bin/ctl start"
  stop program "/var/vcap/jobs/ticker/bin/ctl stop"
  group vcap
`,
    },
    'ticker/bin/ctl': {
      mode: 0o755,
      text: `#!/bin/sh
RUN=/var/vcap/sys/run/ticker
LOG=/var/vcap/sys/log/ticker
case "$1" in
  start)
    mkdir -p "$RUN" "$LOG"
    /bin/sh -c 'while :; do date >> /var/vcap/sys/log/ticker/ticker.log; sleep 1; done' ${marker} </dev/null >>"$LOG/ticker.out" 2>&1 &
    echo $! > "$RUN/ticker.pid"
    ;;
  stop)
    [ -f "$RUN/ticker.pid" ] && kill "$(cat "$RUN/ticker.pid")" 2>/dev/null
    rm -f "$RUN/ticker.pid"
    ;;
esac
`,
    },
  };
}

export async function tgzOf(files: Record<string, { mode: number; text: string }>): Promise<Buffer> {
  const pack = tar.pack();
  const gzip = pack.pipe(createGzip());
  const chunks: Buffer[] = [];
  gzip.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((resolve, reject) => {
    gzip.on('end', resolve);
    gzip.on('error', reject);
  });
  const dirs = new Set<string>();
  for (const name of Object.keys(files)) {
    const parts = name.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  for (const dir of [...dirs].sort()) pack.entry({ name: `${dir}/`, type: 'directory', mode: 0o755 });
  for (const [name, file] of Object.entries(files)) pack.entry({ name, mode: file.mode }, file.text);
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}
