// What a command may do besides its own work: say things and report progress (only without
// --json, whose output is one object on the last line), time its steps, fail with an exit code.
// A command returns a Result; one renderer prints it as text or as the --json object.
import { chalk, echo } from 'zx';
import { stepLine } from '../plan/progress.ts';
import type { PlanStep, StepEvent } from '../plan/run.ts';

/** A command's answer: the exit code, the --json object, and the text printed without --json. */
export interface Result {
  code: number;
  /** Printed with --json; a string is a JSON line already made (e.g. by the VM's job). */
  json?: unknown;
  text?: string;
}

/** A failure to report as `error: ...` (or `{ok:false,error}`) with its exit code: 1 failed, 2 usage. */
export class CliError extends Error {
  readonly code: number;
  readonly extra: Record<string, unknown>;
  constructor(message: string, code = 1, extra: Record<string, unknown> = {}) {
    super(message);
    this.name = 'CliError';
    this.code = code;
    this.extra = extra;
  }
}

export interface Context {
  readonly json: boolean;
  /** Milliseconds since the command line was read. */
  ms(): number;
  /** The same as "1.2s". */
  elapsed(): string;
  /** A line of text output (not with --json). */
  say(text: string): void;
  /** A dim "[1.2s] text" progress line (not with --json). */
  progress(text: string): void;
  /** A plan step's progress with its timing, as the deploy prints them. */
  step(e: StepEvent<PlanStep>): void;
}

export interface ContextOptions {
  write?: (line: string) => void;
  now?: () => number;
}

export function createContext(json: boolean, opts: ContextOptions = {}): Context {
  const write = opts.write ?? ((line: string) => echo(line));
  const now = opts.now ?? Date.now;
  const t0 = now();
  const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
  const ctx: Context = {
    json,
    ms: () => now() - t0,
    elapsed: () => secs(now() - t0),
    say: (text) => {
      if (!json) write(text);
    },
    progress: (text) => ctx.say(chalk.dim(`[${ctx.elapsed()}] ${text}`)),
    step: (e) => ctx.say(stepLine(e, now() - t0)),
  };
  return ctx;
}

/** The one renderer: the --json object on one line, or the text. */
export function renderResult(result: Result, json: boolean): string | undefined {
  if (json) {
    if (result.json === undefined) return undefined;
    return typeof result.json === 'string' ? result.json : JSON.stringify(result.json);
  }
  return result.text;
}

/** A failure as the user sees it. */
export function renderError(message: string, json: boolean, extra: Record<string, unknown> = {}): string {
  return json ? JSON.stringify({ ok: false, error: message, ...extra }) : chalk.red(`error: ${message}`);
}

/** Colours a status level: ok green, warn yellow, anything else red. */
export const paint = (level: string, s: string): string =>
  level === 'ok' ? chalk.green(s) : level === 'warn' ? chalk.yellow(s) : chalk.red(s);
