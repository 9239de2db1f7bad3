import type { Command, CommandDeps, ConfigStore } from './command.ts';
import { commandList, commandRegistry } from './commands/registry.ts';
import { defaultConfigPath, loadConfig, saveConfig } from './config/config-file.ts';
import { UsageError } from './errors.ts';
import type { FlagSpec } from './flags/flag-spec.ts';
import { applyEnvironment, parseCommandLine } from './flags/parse-command-line.ts';
import { globalFlags, globalOptionsFrom } from './global-options.ts';
import { block, result } from './output.ts';
import { DirectorSession } from './session.ts';
import { LineReader } from './ui/line-reader.ts';
import { TerminalUi, type OutputMode } from './ui/terminal-ui.ts';

export interface CliProcess {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly home: string;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly stdin: NodeJS.ReadableStream;
  readonly stdoutIsTty: boolean;
  readonly signal: AbortSignal;
  /** Test knobs: task poll interval and transport retries (the stock CLI's by default). */
  readonly taskPollIntervalMs?: number;
  readonly retryDelayMs?: number;
}

export const cliVersion = '0.1.0';

/** Parses the command line, runs one command, prints through the UI; resolves to the exit code. */
export async function runCli(proc: CliProcess): Promise<number> {
  const lines = new LineReader(proc.stdin);
  let ui = new TerminalUi(
    { stdout: proc.stdout, stderr: proc.stderr, lines },
    { mode: 'tty', interactive: false },
  );
  let session: DirectorSession | undefined;
  try {
    const parsed = parseCommandLine(proc.argv, globalFlags, (name) => commandRegistry.get(name)?.flags);
    const globals = globalOptionsFrom(applyEnvironment(parsed.flags, globalFlags, proc.env));
    const mode: OutputMode = globals.json ? 'json' : globals.tty || proc.stdoutIsTty ? 'tty' : 'plain';
    ui = new TerminalUi(
      { stdout: proc.stdout, stderr: proc.stderr, lines },
      { mode, interactive: !globals.nonInteractive, color: proc.stdoutIsTty && !globals.noColor },
    );

    if (globals.version) {
      ui.finish(result(block(`version ${cliVersion}`)));
      return 0;
    }
    const helpTopic = parsed.command === 'help' ? parsed.positionals[0] : parsed.command;
    if (parsed.command === undefined || parsed.command === 'help' || globals.help) {
      proc.stdout(helpText(helpTopic === undefined ? undefined : commandRegistry.get(helpTopic)));
      return 0;
    }
    const command = commandRegistry.get(parsed.command);
    if (command === undefined) {
      throw new UsageError(`Unknown command \`${parsed.command}'. Run 'refit help' to list the commands.`);
    }
    const args = command.args.safeParse({
      positionals: parsed.positionals,
      flags: applyEnvironment(parsed.flags, command.flags, proc.env),
    });
    if (!args.success) {
      const issue = args.error.issues[0];
      const where = issue?.path.filter((p) => p !== 'positionals' && p !== 'flags').join('.') ?? '';
      throw new UsageError(
        `${command.name}: ${where === '' ? '' : `--${where}: `}${issue?.message ?? 'invalid arguments'}` +
          (command.usage === undefined ? '' : ` (usage: refit ${command.name} ${command.usage})`),
      );
    }

    const configPath = defaultConfigPath(proc.home);
    const config: ConfigStore = {
      load: () => loadConfig(configPath),
      save: (c) => saveConfig(configPath, c),
    };
    session = new DirectorSession({
      globals,
      config: await config.load(),
      ui,
      ...(proc.retryDelayMs === undefined ? {} : { retryDelayMs: proc.retryDelayMs }),
    });
    const deps: CommandDeps = {
      globals,
      session,
      config,
      ui,
      taskPollIntervalMs: proc.taskPollIntervalMs ?? 500,
    };
    ui.finish(await command.run(deps, args.data, proc.signal));
    return 0;
  } catch (error) {
    ui.fail(proc.signal.aborted ? proc.signal.reason : error);
    return 1;
  } finally {
    session?.close();
    lines.close();
  }
}

function helpText(command: Command<unknown> | undefined): string {
  const flagLines = (flags: readonly FlagSpec[]): string =>
    flags
      .map((f) => {
        const names = `${f.short === undefined ? '    ' : `-${f.short}, `}--${f.name}${f.kind === 'string' || f.kind === 'strings' ? '=' : ''}`;
        const env = f.env === undefined ? '' : ` [$${f.env}]`;
        return `  ${names.padEnd(24)} ${f.description}${env}\n`;
      })
      .join('');
  if (command !== undefined) {
    const aliases = command.aliases === undefined ? '' : ` (aliases: ${command.aliases.join(', ')})`;
    return (
      `Usage:\n  refit [OPTIONS] ${command.name}${command.usage === undefined ? '' : ` ${command.usage}`}\n\n` +
      `${command.summary}${aliases}\n\n` +
      (command.flags.length > 0 ? `[${command.name} command options]\n${flagLines(command.flags)}\n` : '') +
      `Application Options:\n${flagLines(globalFlags)}`
    );
  }
  const width = Math.max(...commandList.map((c) => c.name.length));
  return (
    'Usage:\n  refit [OPTIONS] <command>\n\nApplication Options:\n' +
    flagLines(globalFlags) +
    '\nAvailable commands:\n' +
    commandList.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}\n`).join('') +
    "\nRun 'refit help <command>' for a command's options.\n"
  );
}
