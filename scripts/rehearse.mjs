#!/usr/bin/env zx
// `npm run rehearse`: the whole path on the local twin, as it will run against GCP: bring the
// twin up (kept if already up), converge it with ansible-playbook setup.yml, then build and
// deploy the backend with scripts/deploy.mjs. Each step is the user-facing command itself.
import { join, resolve } from 'node:path';
import { $, argv, chalk, echo } from 'zx';

const HELP = `Usage: npm run rehearse [-- --dry-run] [-- --skip-setup]

Runs, in order, what you would run against GCP, on the local twin:
  1. npm run twin -- up                 (a Debian 12 host with 1 GB, on loopback)
  2. ansible-playbook setup.yml         (from ansible/, inventory/twin.yml)
  3. zx scripts/deploy.mjs deploy       (build the image, deploy it blue-green)
Then prints where the site answers. --dry-run shows the deploy's plan instead of running it;
--skip-setup skips step 2 when the twin is already converged.`;

if (argv.help || argv.h) {
  echo(HELP);
  process.exit(0);
}
const root = resolve(import.meta.dirname, '..');
const t0 = Date.now();
const steps = [
  ['bring up the twin', () => $({ cwd: root, stdio: 'inherit' })`zx scripts/twin.mjs up`],
  ...(argv['skip-setup']
    ? []
    : [
        [
          'converge it: ansible-playbook setup.yml',
          () => $({ cwd: join(root, 'ansible'), stdio: 'inherit' })`ansible-playbook setup.yml`,
        ],
      ]),
  [
    'build and deploy the backend',
    () =>
      $({
        cwd: root,
        stdio: 'inherit',
      })`zx scripts/deploy.mjs deploy ${argv['dry-run'] ? ['--dry-run'] : []}`,
  ],
];
for (const [i, [title, run]] of steps.entries()) {
  const s0 = Date.now();
  echo(chalk.bold(`\n[${i + 1}/${steps.length}] ${title}`));
  const r = await run().nothrow();
  if (r.exitCode !== 0) {
    echo(chalk.red(`\nrehearse failed at step ${i + 1} (${title}), exit ${r.exitCode}`));
    process.exit(1);
  }
  echo(chalk.dim(`[${i + 1}/${steps.length}] done in ${((Date.now() - s0) / 1000).toFixed(1)}s`));
}
echo(chalk.green(`\nrehearsal done in ${((Date.now() - t0) / 1000).toFixed(0)}s`));
echo('The site: https://localhost:8443 (Caddy internal CA: curl -k), SSH: npm run twin -- ssh');
echo('Next: npm run deploy -- status | releases | rollback; npm run twin -- down');
