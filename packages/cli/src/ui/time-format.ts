const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => String(n).padStart(2, '0');

/** The stock CLI's long time, always UTC: `Tue Nov  8 00:26:38 UTC 2016` (day padded with a space). */
export function formatFullTime(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const day = String(d.getUTCDate()).padStart(2, ' ');
  return `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${day} ${formatHours(unixSeconds)} UTC ${d.getUTCFullYear()}`;
}

/** `HH:MM:SS` in UTC, as in `Task 5 | 19:09:27 | …`. */
export function formatHours(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  return `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}

/** `HH:MM:SS` of a duration in seconds (hours are not wrapped). */
export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.trunc(seconds));
  return `${two(Math.trunc(total / 3600))}:${two(Math.trunc(total / 60) % 60)}:${two(total % 60)}`;
}

/** go-humanize's IBytes: `512 B`, `1.5 KiB`, `12 MiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  if (bytes < 10) return `${bytes} B`;
  const exponent = Math.min(Math.floor(Math.log(bytes) / Math.log(1024)), units.length - 1);
  const value = Math.floor((bytes / 1024 ** exponent) * 10 + 0.5) / 10;
  return `${value < 10 ? value.toFixed(1) : value.toFixed(0)} ${units[exponent]}`;
}
