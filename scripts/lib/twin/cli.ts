// `npm run twin -- up|down|status|ssh|reset`: the local e2-micro twin (docs/twin.md). Loads the
// config, hands the plan to the runner, and answers with the exit code: `status` 0 up, 3 down,
// 1 partly up; `ssh` the remote command's. Words after `--` go to `ssh` as the remote command.
import { spawnSync } from 'node:child_process';
import type { Invocation } from '../cli/args.ts';
import type { Result } from '../cli/context.ts';
import type { Cli } from '../cli/run.ts';
import { LocalRunner } from '../runner.ts';
import {
  type ConfigFlags,
  consoleProgress,
  down,
  formatStatus,
  loadConfig,
  runningPorts,
  status,
  TwinError,
  up,
  withLock,
} from './execute.ts';
import { ConfigError, sshArgv } from './plan.ts';
import { twinSpec } from './spec.ts';

const PORT_FLAGS = ['ssh-port', 'http-port', 'https-port', 'gcs-port'] as const;

async function run(inv: Invocation, root: string): Promise<number> {
  const flags: ConfigFlags = {};
  for (const k of PORT_FLAGS) if (inv.values[k] !== undefined) flags[k] = inv.values[k] as string;
  if (inv.values.cpu !== undefined) flags.cpu = inv.values.cpu as string;
  if (inv.values.kernel === true) flags.kernel = true;
  const cfg = loadConfig(root, process.env, flags);
  const runner = new LocalRunner();
  const progress = consoleProgress();
  const dryRun = inv.values['dry-run'] === true;
  switch (inv.command) {
    case 'up':
      return withLock(cfg, () => up(runner, cfg, progress, { dryRun }));
    case 'down':
      return withLock(cfg, () => down(runner, cfg, progress, { dryRun }));
    case 'reset':
      return withLock(cfg, async () => {
        const rc = await down(runner, cfg, progress, { dryRun });
        return rc === 0 ? up(runner, cfg, progress, { dryRun }) : rc;
      });
    case 'status': {
      const s = await status(runner, cfg);
      console.log(formatStatus(cfg, s));
      return s.state === 'up' ? 0 : s.state === 'down' ? 3 : 1;
    }
    case 'ssh': {
      const ports = await runningPorts(runner, cfg);
      const command = inv.rest; // the words after `ssh`, those after `--` included
      const argv = sshArgv({ ...cfg, ports }, command, command.length === 0 ? [] : ['-o', 'BatchMode=yes']);
      const r = spawnSync(argv[0], argv.slice(1), { stdio: 'inherit' });
      return r.status ?? 1;
    }
  }
  return 2;
}

/** Failures are `twin: reason` on stderr: 2 for a bad configuration, 1 otherwise. */
async function main(inv: Invocation, root: string): Promise<Result> {
  try {
    return { code: await run(inv, root) };
  } catch (e) {
    const known = e instanceof TwinError || e instanceof ConfigError;
    console.error(`twin: ${known ? e.message : ((e as Error)?.stack ?? e)}`);
    return { code: e instanceof ConfigError ? 2 : 1 };
  }
}

export const twinCli: Cli = { spec: twinSpec, main: (inv, _ctx, root) => main(inv, root) };
