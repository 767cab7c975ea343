// What every entry script (deploy, incident) does the same way before its own work: answer
// --help, refuse an unknown command, and say who is acting for the audit log.
import { hostname, userInfo } from 'node:os';
import { $, chalk, echo } from 'zx';
import type { Actor } from './deploy/plan.ts';

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

/** Who runs this, from where: git's user.email, else the login name. */
export async function currentActor(root: string): Promise<Actor> {
  return {
    who: (await $`git -C ${root} config user.email`.quiet().nothrow()).stdout.trim() || userInfo().username,
    host: hostname(),
    pid: process.pid,
    now: new Date().toISOString(),
  };
}
