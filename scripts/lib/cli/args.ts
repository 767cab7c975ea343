// One argument parser for every entry script: a declared table of options and commands, parsed by
// node:util parseArgs (strict: an unknown or misspelt flag is a usage error, never ignored), and
// the same table renders `--help`. Pure: argv in, a decision out; printing and exiting are run.ts's.
import { parseArgs } from 'node:util';
import { TARGET_NAMES } from '../target.ts';
import { CliError } from './context.ts';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  default?: string;
  /** The value's name in a command's usage line: `--lines N`. */
  value?: string;
  /** Shown in the main help's option list instead of `value`: `--target twin|dev|staging|prod`. */
  choices?: readonly string[];
  /** Listed in the main help under "Options (every command)" when given. */
  help?: string;
}

/** --target, as every entry takes it: the default is the twin. */
export const targetOption = (help: string): OptionSpec => ({
  type: 'string',
  default: 'twin',
  value: 'T',
  choices: TARGET_NAMES,
  help,
});

export const helpOption: OptionSpec = { type: 'boolean', short: 'h', help: 'help (also after a command)' };

export interface CommandSpec {
  /** The command's line in the main help (continuation lines after a newline). */
  summary: string;
  /** How the command is written in the main help's list, when more than its name. */
  synopsis?: string;
  /** Positional words in its usage line, before the options: `app|proxy|db|redis`. */
  args?: string;
  /** The options its usage line shows, in order. */
  options: readonly string[];
  /** What follows the usage line in the command's own help; without it, --help after the
   * command prints the main help (an entry whose main help already says everything). */
  about?: string;
}

export interface CliSpec {
  /** The entry's file name: argv is taken after it. */
  script: string;
  /** The main help's first line, after "Usage: ". */
  usage: string;
  /** The heading of the command list. */
  commandsTitle: string;
  /** Column at which the summaries start in the command list. */
  column: number;
  options: Readonly<Record<string, OptionSpec>>;
  commands: Readonly<Record<string, CommandSpec>>;
  /** The option list's heading (default "Options (every command):"). */
  optionsTitle?: string;
  /** Column at which the option descriptions start (default: 3 past the longest flag). */
  optionsColumn?: number;
  /** A paragraph after the option list (exit codes, say). */
  footer?: string;
  /** A paragraph after the usage line. */
  intro?: string;
  /** An entry that does one thing: this command runs when none is named, and the help lists none. */
  defaultCommand?: string;
  /** With defaultCommand: the positional words are its input (its `rest`), not a command, and
   * this line leads the option list: `PLAN   a plan file`. */
  operand?: { name: string; help: string };
  /** How a word that is no command is refused (default `unknown command: WORD`); the main help follows. */
  unknownCommand?: (word: string) => string;
  /** The help has no blank line after the usage line and no option heading: usage, then the list. */
  compact?: boolean;
}

export type Values = Record<string, string | boolean | undefined>;

export interface Invocation {
  command: string;
  /** The words after the command. */
  rest: string[];
  values: Values;
}

export type Decision =
  | { kind: 'help'; text: string; code: 0 | 2 }
  | { kind: 'usage'; message: string; json: boolean }
  | { kind: 'run'; invocation: Invocation; json: boolean };

/** A count option (--keep, --daily): an integer 0..max, else a usage error naming the flag. */
export function count(value: string | undefined, flag: string, def: number, max = 1000): number {
  if (value === undefined) return def;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > max)
    throw new CliError(`--${flag} must be an integer 0..${max} (got "${value}")`, 2);
  return n;
}

/** The arguments after the script's own name (`zx scripts/x.mjs`, `node scripts/x.mjs`, npm run). */
export function scriptArgs(argv: readonly string[], script: string): string[] {
  return argv.slice(argv.findIndex((a) => a.endsWith(script)) + 1);
}

const flag = (name: string, o: OptionSpec) => `${o.short ? `-${o.short}, ` : ''}--${name}`;

export function mainHelp(spec: CliSpec): string {
  const commands = Object.entries(spec.commands).map(([name, c]) => {
    const [first, ...more] = c.summary.split('\n');
    const head = `  ${(c.synopsis ?? name).padEnd(spec.column - 2)}${first}`;
    return [head, ...more.map((l) => `${' '.repeat(spec.column)}${l}`)].join('\n');
  });
  const listed = Object.entries(spec.options).filter(([, o]) => o.help !== undefined);
  const left = listed.map(([n, o]) => {
    const value = o.choices?.join('|') ?? o.value;
    return `${flag(n, o)}${value ? ` ${value}` : ''}`;
  });
  const width = (spec.optionsColumn ?? Math.max(...left.map((l) => l.length)) + 5) - 2;
  const options = listed.map(([, o], i) => `  ${left[i].padEnd(width)}${o.help}`);
  if (spec.operand) options.unshift(`  ${spec.operand.name.padEnd(width)}${spec.operand.help}`);
  if (spec.compact) return [`Usage: ${spec.usage}`, ...options].join('\n');
  return [
    `Usage: ${spec.usage}`,
    '',
    ...(spec.intro ? [spec.intro, ''] : []),
    ...(spec.defaultCommand ? [] : [spec.commandsTitle, ...commands, '']),
    spec.optionsTitle ?? 'Options (every command):',
    ...options,
    ...(spec.footer ? ['', spec.footer] : []),
  ].join('\n');
}

export function commandHelp(spec: CliSpec, name: string): string {
  const c = spec.commands[name];
  const opts = c.options.map((o) => {
    const value = spec.options[o]?.value;
    return `[--${o}${value ? ` ${value}` : ''}]`;
  });
  return [`Usage: ${[name, c.args, ...opts].filter(Boolean).join(' ')}`, c.about].join('\n');
}

const isCommand = (spec: CliSpec, name: string | undefined): name is string =>
  name !== undefined && Object.hasOwn(spec.commands, name);

/**
 * The main help without a command (exit 2, or 0 with --help) or with --help after an unknown
 * command; a command's help with --help; an unknown command or option is a usage error.
 */
export function decide(spec: CliSpec, args: readonly string[]): Decision {
  const json = args.includes('--json');
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...args],
      options: spec.options as Record<string, OptionSpec>,
      allowPositionals: true,
      strict: true,
    }) as { values: Values; positionals: string[] };
  } catch (e) {
    const err = e as Error & { code?: string };
    const name = /'(-[^']*)'/.exec(err.message)?.[1];
    const message =
      err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && name
        ? `unknown option ${name} (see --help)`
        : err.message;
    return { kind: 'usage', message, json };
  }
  const [named, ...others] = parsed.positionals;
  const command = spec.operand ? spec.defaultCommand : (named ?? spec.defaultCommand);
  const rest = spec.operand ? parsed.positionals : others;
  const wantsHelp = parsed.values.help === true;
  if (!command || (wantsHelp && !isCommand(spec, command)))
    return { kind: 'help', text: mainHelp(spec), code: command || wantsHelp ? 0 : 2 };
  if (!isCommand(spec, command))
    return {
      kind: 'usage',
      message: `${spec.unknownCommand?.(command) ?? `unknown command: ${command}`}\n\n${mainHelp(spec)}`,
      json,
    };
  if (wantsHelp) {
    const text = spec.commands[command].about ? commandHelp(spec, command) : mainHelp(spec);
    return { kind: 'help', text, code: 0 };
  }
  return {
    kind: 'run',
    invocation: { command, rest, values: parsed.values },
    json: parsed.values.json === true,
  };
}
