// What deploy.mjs does before its own work: answer --help, refuse an unknown command, and say
// who is acting. The other entries hand a declared spec to lib/cli/run.ts instead; deploy moves
// there when it is converted (issue 17).
import { chalk, echo } from 'zx';

/** Prints the error (as JSON with --json) and exits with `code` (1 failed, 2 usage). */
export function failer(json: boolean) {
  return (message: string, code = 1, extra: Record<string, unknown> = {}): never => {
    if (json) echo(JSON.stringify({ ok: false, error: message, ...extra }));
    else echo(chalk.red(`error: ${message}`));
    process.exit(code);
  };
}

/**
 * `help.main` without a command (exit 2) or with --help (exit 0); a command's help with --help;
 * an unknown command is a usage error. Returns only when the command is known and no help was asked.
 */
export function handleHelp(
  help: Record<string, string>,
  command: string | undefined,
  wantsHelp: boolean,
  fail: (message: string, code: number) => never,
): void {
  if (!command || (wantsHelp && !help[command])) {
    echo(help.main);
    process.exit(command || wantsHelp ? 0 : 2);
  }
  if (!help[command] || command === 'main') fail(`unknown command: ${command}\n\n${help.main}`, 2);
  if (wantsHelp) {
    echo(help[command]);
    process.exit(0);
  }
}

export { currentActor } from './cli/actor.ts';
