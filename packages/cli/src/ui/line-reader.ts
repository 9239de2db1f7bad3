import { createInterface, type Interface } from 'node:readline';

/** Reads answers line by line from stdin (one reader per process, so piped answers are not lost). */
export class LineReader {
  private readonly input: NodeJS.ReadableStream;
  private rl: Interface | undefined;
  private iterator: AsyncIterator<string> | undefined;

  constructor(input: NodeJS.ReadableStream) {
    this.input = input;
  }

  async readLine(): Promise<string> {
    if (this.iterator === undefined) {
      this.rl = createInterface({ input: this.input, terminal: false });
      this.iterator = this.rl[Symbol.asyncIterator]();
    }
    const next = await this.iterator.next();
    return next.done === true ? '' : next.value;
  }

  /** Reads a secret from a terminal without echoing it. */
  async readHidden(): Promise<string> {
    const stdin = this.input as NodeJS.ReadStream;
    if (stdin.isTTY !== true || typeof stdin.setRawMode !== 'function') return this.readLine();
    this.close();
    return new Promise<string>((resolve, reject) => {
      let secret = '';
      const finish = (error?: Error): void => {
        stdin.setRawMode(false);
        stdin.pause();
        stdin.off('data', onData);
        if (error === undefined) resolve(secret);
        else reject(error);
      };
      const onData = (data: Buffer): void => {
        for (const char of data.toString('utf8')) {
          if (char === '\r' || char === '\n') return finish();
          if (char === '\u0003') return finish(new Error('Interrupted'));
          if (char === '\u007f' || char === '\b') secret = secret.slice(0, -1);
          else secret += char;
        }
      };
      stdin.setRawMode(true);
      stdin.resume();
      stdin.on('data', onData);
    });
  }

  close(): void {
    this.rl?.close();
    this.rl = undefined;
    this.iterator = undefined;
  }
}
