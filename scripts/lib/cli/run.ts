// The runner every entry hands its spec to: parse, answer --help, run the command, print its
// Result as text or --json, and exit with its code. The only place that calls process.exit.
import { echo } from 'zx';
import { type CliSpec, decide, type Invocation, scriptArgs } from './args.ts';
import { CliError, type Context, createContext, type Result, renderError, renderResult } from './context.ts';

export interface Cli {
  spec: CliSpec;
  /** Runs one parsed command line; `root` is the repository. */
  main(inv: Invocation, ctx: Context, root: string): Promise<Result>;
  /** Errors whose message is the whole story (exit 1, no stack). */
  expected?: readonly (abstract new (
    ...args: never[]
  ) => Error)[];
}

export interface Printer {
  write(line: string): void;
  exit(code: number): never;
}

const processPrinter: Printer = {
  write: (line) => echo(line),
  exit: (code) => process.exit(code),
};

/** Returns the exit code (the printer's exit() normally never returns). */
export async function runCli(cli: Cli, argv: readonly string[], root: string, out = processPrinter) {
  const d = decide(cli.spec, scriptArgs(argv, cli.spec.script));
  if (d.kind === 'help') {
    out.write(d.text);
    return out.exit(d.code);
  }
  if (d.kind === 'usage') {
    out.write(renderError(d.message, d.json));
    return out.exit(2);
  }
  const ctx = createContext(d.json, { write: out.write });
  let result: Result;
  try {
    result = await cli.main(d.invocation, ctx, root);
  } catch (e) {
    const known = e instanceof CliError || cli.expected?.some((E) => e instanceof E);
    if (!known) throw e;
    const err = e as Error & Partial<CliError>;
    out.write(renderError(err.message, d.json, err.extra));
    return out.exit(err.code ?? 1);
  }
  const line = renderResult(result, d.json);
  if (line !== undefined) out.write(line);
  return out.exit(result.code);
}
