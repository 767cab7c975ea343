// `npm run dev`'s command line (scripts/dev.mjs): one thing to do, its options, and the --help
// written from them (lib/cli/args.ts).
import { type CliSpec, helpOption } from '../cli/args.ts';

export const devSpec: CliSpec = {
  script: 'dev.mjs',
  usage: 'npm run dev [-- options]',
  intro: `Starts MariaDB and Redis on loopback (data in .dev/), runs migrations, seeds sample data and runs
the backend with hot reload (bun --watch). Ctrl-C stops everything it started.
Ports and credentials: DATABASE_URL, REDIS_URL and PORT in .env (made from .env.example if missing).`,
  commandsTitle: '',
  column: 0,
  defaultCommand: 'start',
  optionsTitle:
    'Options (--dotenv, not --env-file: Node 22 takes --env-file for itself, wherever it stands):',
  optionsColumn: 20,
  options: {
    dotenv: { type: 'string', value: 'FILE', help: 'the .env to read (default .env at the repository root)' },
    'data-dir': { type: 'string', value: 'DIR', help: 'where data, logs and the lock live (default .dev/)' },
    backend: { type: 'string', value: 'DIR', help: 'the backend source to run (default backend/)' },
    'dry-run': { type: 'boolean', help: 'print the plan, start nothing' },
    help: { ...helpOption, help: 'this help' },
  },
  commands: {
    start: { summary: 'start the dev stack', options: ['dotenv', 'data-dir', 'backend', 'dry-run'] },
  },
};
