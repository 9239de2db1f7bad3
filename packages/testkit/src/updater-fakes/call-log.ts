/** One ordered record of every call the fakes saw: `cpi:create_vm`, `agent:<agent>:apply`, `store:…`. */
export class CallLog {
  readonly entries: string[] = [];
  add(entry: string): void {
    this.entries.push(entry);
  }
  /** Entries that start with `prefix`. */
  matching(prefix: string): string[] {
    return this.entries.filter((e) => e.startsWith(prefix));
  }
}
