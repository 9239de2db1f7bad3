import { AgentError, AgentErrorCode } from '../errors.ts';

/** A program monit runs: its argv (no shell, as monit does) and how long to wait for it. */
export interface MonitProgram {
  readonly argv: readonly string[];
  readonly timeoutSeconds: number;
}

/** One `check process` block of a job's monit file. */
export interface MonitProcess {
  readonly name: string;
  readonly pidfile: string;
  readonly start: MonitProgram;
  readonly stop: MonitProgram | null;
  readonly group: string | null;
  readonly dependsOn: readonly string[];
  readonly file: string;
  readonly line: number;
}

export interface MonitFile {
  readonly processes: readonly MonitProcess[];
  /** Statements understood but not acted on (`if … then …`, `mode`, other check types). */
  readonly ignored: readonly string[];
}

/** Monit's default wait for a start or stop program. */
export const DEFAULT_PROGRAM_TIMEOUT_SECONDS = 30;

interface Token {
  readonly text: string;
  readonly quoted: boolean;
  readonly line: number;
}

function tokenize(text: string, file: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? '';
    if (c === '\n') {
      line++;
      i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '"' || c === "'") {
      const startLine = line;
      let j = i + 1;
      let value = '';
      while (j < text.length && text[j] !== c) {
        if (text[j] === '\\' && j + 1 < text.length) j++;
        if (text[j] === '\n') line++;
        value += text[j];
        j++;
      }
      if (j >= text.length) throw syntax(file, startLine, 'unterminated string');
      tokens.push({ text: value, quoted: true, line: startLine });
      i = j + 1;
    } else if (c === ',' || c === '{' || c === '}' || c === '=') {
      tokens.push({ text: c, quoted: false, line });
      i++;
    } else {
      let j = i;
      while (j < text.length && !/[\s,{}="'#]/.test(text[j] ?? '')) j++;
      tokens.push({ text: text.slice(i, j), quoted: false, line });
      i = j;
    }
  }
  return tokens;
}

function syntax(file: string, line: number, message: string): AgentError {
  return new AgentError(AgentErrorCode.MonitSyntax, `${file}:${line}: monit syntax error: ${message}`);
}

/** Splits a program string into argv as monit does: on blanks, with '…' grouping. */
export function splitProgram(command: string): string[] {
  const argv: string[] = [];
  let current = '';
  let quote: string | null = null;
  let has = false;
  for (const c of command) {
    if (quote !== null) {
      if (c === quote) quote = null;
      else current += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      has = true;
    } else if (/\s/.test(c)) {
      if (has || current !== '') argv.push(current);
      current = '';
      has = false;
    } else {
      current += c;
      has = true;
    }
  }
  if (has || current !== '') argv.push(current);
  return argv;
}

const IF_ACTIONS = new Set(['alert', 'restart', 'start', 'stop', 'exec', 'unmonitor', 'timeout', 'monitor']);

/**
 * Parses a job's monit file as BOSH releases write it. Errors name the file and line. `if … then
 * …` rules, `mode`, `every`, alerts and non-process checks are accepted and ignored (monit's
 * health tests are not reproduced: a process is healthy while its pid lives).
 */
export function parseMonitFile(text: string, file: string): MonitFile {
  const tokens = tokenize(text, file);
  const processes: MonitProcess[] = [];
  const ignored: string[] = [];
  let i = 0;
  const peek = (): Token | undefined => tokens[i];
  const lastLine = (): number => tokens[i - 1]?.line ?? tokens[tokens.length - 1]?.line ?? 1;
  const next = (what: string): Token => {
    const token = tokens[i];
    if (token === undefined) throw syntax(file, lastLine(), `expected ${what}, found end of file`);
    i++;
    return token;
  };
  const is = (token: Token | undefined, word: string): boolean =>
    token !== undefined && !token.quoted && token.text.toLowerCase() === word;
  const skipNoise = (...words: string[]): void => {
    while (words.some((w) => is(peek(), w))) i++;
  };

  const program = (): MonitProgram => {
    skipNoise('program', '=');
    const command = next('a quoted program');
    if (!command.quoted)
      throw syntax(file, command.line, `program must be a quoted string, found '${command.text}'`);
    const argv = splitProgram(command.text);
    if (argv.length === 0) throw syntax(file, command.line, 'program is empty');
    let timeoutSeconds = DEFAULT_PROGRAM_TIMEOUT_SECONDS;
    for (;;) {
      if (is(peek(), 'as')) {
        // `as uid X and gid Y`: the agent runs as root in the VM; ownership is the job's business.
        i++;
        while (['uid', 'gid', 'and'].some((w) => is(peek(), w))) {
          i++;
          if (!is(tokens[i - 1], 'and')) next('a user or group');
        }
        ignored.push(`${file}:${command.line}: 'as uid/gid' ignored`);
      } else if (is(peek(), 'with') && is(tokens[i + 1], 'timeout')) {
        i += 2;
        const n = next('a timeout');
        if (!/^\d+$/.test(n.text)) throw syntax(file, n.line, `timeout must be a number, found '${n.text}'`);
        timeoutSeconds = Number(n.text);
        skipNoise('seconds', 'second', 's');
      } else if (is(peek(), 'timeout')) {
        i++;
        const n = next('a timeout');
        if (!/^\d+$/.test(n.text)) throw syntax(file, n.line, `timeout must be a number, found '${n.text}'`);
        timeoutSeconds = Number(n.text);
        skipNoise('seconds', 'second', 's');
      } else {
        return { argv, timeoutSeconds };
      }
    }
  };

  const skipBraces = (): void => {
    if (!is(peek(), '{')) return;
    const open = next('{');
    while (!is(peek(), '}')) next(`'}' closing the '{' of line ${open.line}`);
    i++;
  };

  while (i < tokens.length) {
    const check = next('check');
    if (!is(check, 'check')) throw syntax(file, check.line, `expected 'check', found '${check.text}'`);
    const kind = next('a check type');
    const name = next('a service name');
    if (kind.text.toLowerCase() !== 'process') {
      ignored.push(`${file}:${check.line}: 'check ${kind.text} ${name.text}' is not supervised`);
      while (i < tokens.length && !is(peek(), 'check')) i++;
      continue;
    }
    let pidfile: string | null = null;
    let start: MonitProgram | null = null;
    let stop: MonitProgram | null = null;
    let group: string | null = null;
    const dependsOn: string[] = [];
    while (i < tokens.length && !is(peek(), 'check')) {
      const t = next('a statement');
      const word = t.quoted ? '' : t.text.toLowerCase();
      if (word === 'with' && is(peek(), 'pidfile')) {
        i++;
        pidfile = next('a pidfile path').text;
      } else if (word === 'pidfile') {
        pidfile = next('a pidfile path').text;
      } else if (word === 'with' && is(peek(), 'path')) {
        throw syntax(file, t.line, `'with path' (a program check) is not a process check`);
      } else if (word === 'matching') {
        throw syntax(file, t.line, `'matching' is not supported: give the process a pidfile`);
      } else if (word === 'start') {
        start = program();
      } else if (word === 'stop') {
        stop = program();
      } else if (word === 'restart' && is(peek(), 'program')) {
        program();
        ignored.push(`${file}:${t.line}: 'restart program' ignored (stop then start is used)`);
      } else if (word === 'group') {
        group = next('a group name').text;
      } else if (word === 'depends') {
        skipNoise('on');
        dependsOn.push(next('a service name').text);
        while (is(peek(), ',')) {
          i++;
          dependsOn.push(next('a service name').text);
        }
      } else if (word === 'if') {
        const from = t.line;
        while (!is(peek(), 'then')) next(`'then' for the 'if' of line ${from}`);
        i++;
        const action = next('an action after then');
        if (!IF_ACTIONS.has(action.text.toLowerCase())) {
          throw syntax(file, action.line, `unknown action '${action.text}' after 'then'`);
        }
        if (is(action, 'exec')) next('a program after exec');
        while (is(peek(), 'else') && is(tokens[i + 1], 'if')) {
          i += 2;
          while (!is(peek(), 'then')) next(`'then' for the 'else if' of line ${from}`);
          i++;
          next('an action after then');
        }
        ignored.push(
          `${file}:${from}: 'if … then ${action.text}' ignored (a process is healthy while its pid lives)`,
        );
      } else if (word === 'mode') {
        const mode = next('a mode');
        ignored.push(`${file}:${t.line}: 'mode ${mode.text}' ignored`);
      } else if (word === 'every') {
        while (i < tokens.length && /^\d+$|^cycles?$/i.test(peek()?.text ?? '')) i++;
      } else if (word === 'alert' || word === 'noalert') {
        next('an alert recipient');
        skipNoise('but', 'not', 'only', 'on');
        skipBraces();
        ignored.push(`${file}:${t.line}: '${word}' ignored`);
      } else {
        throw syntax(file, t.line, `unexpected '${t.text}' in 'check process ${name.text}'`);
      }
    }
    if (pidfile === null) throw syntax(file, check.line, `'check process ${name.text}' has no pidfile`);
    if (start === null) throw syntax(file, check.line, `'check process ${name.text}' has no start program`);
    processes.push({ name: name.text, pidfile, start, stop, group, dependsOn, file, line: check.line });
  }
  return { processes, ignored };
}

/**
 * Orders processes so every one comes after what it depends on. Unknown dependencies and
 * cycles are errors naming the file and line of the process that declares them.
 */
export function startOrder(processes: readonly MonitProcess[]): MonitProcess[] {
  const byName = new Map(processes.map((p) => [p.name, p]));
  const ordered: MonitProcess[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (p: MonitProcess, chain: string[]): void => {
    const s = state.get(p.name);
    if (s === 'done') return;
    if (s === 'visiting') {
      throw syntax(p.file, p.line, `dependency cycle: ${[...chain, p.name].join(' -> ')}`);
    }
    state.set(p.name, 'visiting');
    for (const dep of p.dependsOn) {
      const target = byName.get(dep);
      if (target === undefined)
        throw syntax(p.file, p.line, `'${p.name}' depends on unknown service '${dep}'`);
      visit(target, [...chain, p.name]);
    }
    state.set(p.name, 'done');
    ordered.push(p);
  };
  for (const p of processes) visit(p, []);
  return ordered;
}
