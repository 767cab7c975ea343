// `npm run rehearse`: bring the twin up (kept if already up), converge it with ansible-playbook
// setup.yml, then build and deploy the backend with scripts/deploy.mjs, through the one plan
// executor (lib/plan/run.ts); each step's own output goes straight to the terminal.
import { join } from 'node:path';
import { $, chalk } from 'zx';
import type { Invocation } from '../cli/args.ts';
import type { Context, Result } from '../cli/context.ts';
import type { Cli } from '../cli/run.ts';
import { runPlan } from '../plan/run.ts';
import { type RehearsalStep, rehearsalSteps, SITE_LINES } from './plan.ts';
import { rehearseSpec } from './spec.ts';

/** Runs argv in cwd with the terminal attached; resolves to its exit code. */
export type Exec = (argv: string[], cwd: string) => Promise<number | null>;

const terminalExec: Exec = async (argv, cwd) =>
  (await $({ cwd, stdio: 'inherit' })`${argv}`.nothrow()).exitCode;

const secs = (ms: number, digits: number) => `${(ms / 1000).toFixed(digits)}s`;

export async function rehearse(
  inv: Invocation,
  ctx: Context,
  root: string,
  exec = terminalExec,
): Promise<Result> {
  const steps = rehearsalSteps({
    dryRun: inv.values['dry-run'] === true,
    skipSetup: inv.values['skip-setup'] === true,
  });
  const result = await runPlan<RehearsalStep>(
    { steps },
    {
      command: async (step) => {
        const code = await exec(step.argv, join(root, step.dir));
        if (code !== 0) throw new Error(`exit ${code}`);
      },
    },
    {
      onEvent: (e) => {
        const n = `${e.index + 1}/${e.total}`;
        if (e.type === 'start') ctx.say(chalk.bold(`\n[${n}] ${e.step.title}`));
        if (e.type === 'done') ctx.say(chalk.dim(`[${n}] done in ${secs(e.ms, 1)}`));
        if (e.type === 'failed')
          ctx.say(chalk.red(`\nrehearse failed at step ${e.index + 1} (${e.step.title}), ${e.error}`));
      },
    },
  );
  if (!result.ok) return { code: 1 };
  return {
    code: 0,
    text: [chalk.green(`\nrehearsal done in ${secs(ctx.ms(), 0)}`), ...SITE_LINES].join('\n'),
  };
}

export const rehearseCli: Cli = {
  spec: rehearseSpec,
  main: (inv, ctx, root) => rehearse(inv, ctx, root),
};
