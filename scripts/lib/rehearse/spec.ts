// `npm run rehearse`'s command line (scripts/rehearse.mjs): one thing to do and its two flags.
// The help is prose that names the flags within it, printed as it always has been: the usage
// line carries it, and no option has a list line of its own (lib/cli/args.ts, compact).
import type { CliSpec } from '../cli/args.ts';

export const rehearseSpec: CliSpec = {
  script: 'rehearse.mjs',
  usage: `npm run rehearse [-- --dry-run] [-- --skip-setup]

Runs, in order, what you would run against GCP, on the local twin:
  1. npm run twin -- up                 (a Debian 12 host with 1 GB, on loopback)
  2. ansible-playbook setup.yml         (from ansible/, inventory/twin.yml)
  3. zx scripts/deploy.mjs deploy       (build the image, deploy it blue-green)
Then prints where the site answers. --dry-run shows the deploy's plan instead of running it;
--skip-setup skips step 2 when the twin is already converged.`,
  commandsTitle: '',
  column: 0,
  defaultCommand: 'rehearse',
  compact: true,
  options: {
    'dry-run': { type: 'boolean' },
    'skip-setup': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
  commands: {
    rehearse: { summary: 'the whole path on the local twin', options: ['dry-run', 'skip-setup'] },
  },
};
