#!/usr/bin/env zx
// npm run twin -- up|down|status|ssh|reset: the local e2-micro twin (see docs/twin.md).
// Thin entry: parse arguments, load config, hand the plan to the runner, print, exit truthfully.
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { minimist } from 'zx';
import { LocalRunner } from './lib/runner.ts';
import {
  consoleProgress,
  down,
  formatStatus,
  loadConfig,
  runningPorts,
  status,
  TwinError,
  up,
  withLock,
} from './lib/twin/execute.ts';
import { ConfigError, DEFAULT_PORTS, PORT_ENV, sshArgv, TWIN_COMMANDS } from './lib/twin/plan.ts';

const here = fileURLToPath(import.meta.url);
const root = resolve(dirname(here), '..');

const HELP = `Usage: npm run twin -- <command> [options]

A local twin of the project's GCP e2-micro VM: a Debian 12 systemd container with 1 GB of
memory (no swap) and 2 CPUs, sshd, an admin user "ops" with passwordless sudo, plus a GCS
emulator (fake-gcs-server) with the project's buckets. Everything listens on 127.0.0.1 only.

Commands:
  up       build the base image if its recipe changed, start the twin and the emulator, write
           inventory/twin.yml. Says so and changes nothing when the twin is already up.
  down     remove the twin, the emulator, their network and volume, and inventory/twin.yml
           (the cached base image and the SSH key in .twin/ stay).
  status   print the state; exit 0 when up, 3 when down, 1 when partly up.
  ssh      open a shell on the twin as ops, or run a command: npm run twin -- ssh -- uptime
  reset    down, then up: a fresh twin.

Options:
  --ssh-port N    SSH on 127.0.0.1:N   (default ${DEFAULT_PORTS.ssh}, env ${PORT_ENV.ssh})
  --http-port N   HTTP on 127.0.0.1:N  (default ${DEFAULT_PORTS.http}, env ${PORT_ENV.http})
  --https-port N  HTTPS on 127.0.0.1:N (default ${DEFAULT_PORTS.https}, env ${PORT_ENV.https})
  --gcs-port N    GCS emulator on 127.0.0.1:N (default ${DEFAULT_PORTS.gcs}, env ${PORT_ENV.gcs})
  --dry-run       print what up/down/reset would do, change nothing
  -h, --help      this text

Environment: E2M_TWIN_INSTANCE=NAME runs a second, separate twin (containers e2m-twin-NAME*) on
the same Docker engine, e.g. for another checkout; give it other ports too.

Exit codes: 0 success, 1 failure, 2 bad usage, 3 (status) twin is down.`;

function scriptArgs() {
  const i = process.argv.findIndex((a) => resolve(a) === here);
  return process.argv.slice(i >= 0 ? i + 1 : 2);
}

async function main() {
  const args = minimist(scriptArgs(), {
    string: ['ssh-port', 'http-port', 'https-port', 'gcs-port'],
    boolean: ['help', 'dry-run'],
    alias: { h: 'help' },
    '--': true,
    unknown: (a) => {
      if (a.startsWith('-')) throw new ConfigError(`unknown option ${a} (see --help)`);
      return true;
    },
  });
  const [command, ...rest] = args._;
  if (args.help || command === 'help') {
    console.log(HELP);
    return 0;
  }
  if (!TWIN_COMMANDS.includes(command)) {
    console.error(command ? `unknown command "${command}"\n` : 'no command given\n');
    console.error(HELP);
    return 2;
  }
  const flags = Object.fromEntries(
    ['ssh-port', 'http-port', 'https-port', 'gcs-port']
      .filter((k) => args[k] !== undefined)
      .map((k) => [k, args[k]]),
  );
  const cfg = loadConfig(root, process.env, flags);
  const runner = new LocalRunner();
  const progress = consoleProgress();
  const dryRun = args['dry-run'];
  switch (command) {
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
      const command = [...rest.map(String), ...(args['--'] ?? [])];
      const argv = sshArgv({ ...cfg, ports }, command, command.length === 0 ? [] : ['-o', 'BatchMode=yes']);
      const r = spawnSync(argv[0], argv.slice(1), { stdio: 'inherit' });
      return r.status ?? 1;
    }
  }
  return 2;
}

try {
  process.exitCode = await main();
} catch (e) {
  if (e instanceof TwinError || e instanceof ConfigError) {
    console.error(`twin: ${e.message}`);
    process.exitCode = e instanceof ConfigError ? 2 : 1;
  } else {
    console.error(`twin: ${e?.stack ?? e}`);
    process.exitCode = 1;
  }
}
