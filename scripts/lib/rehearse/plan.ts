// The rehearsal's steps, pure: each is the user-facing command itself, as exact argv, run from
// the repository (or its ansible/ directory) in the order a first deploy to GCP takes.
import type { PlanStep } from '../plan/run.ts';

export interface RehearsalStep extends PlanStep {
  kind: 'command';
  /** Relative to the repository root. */
  dir: '.' | 'ansible';
  argv: string[];
}

export interface RehearsalFlags {
  dryRun: boolean;
  skipSetup: boolean;
}

export function rehearsalSteps({ dryRun, skipSetup }: RehearsalFlags): RehearsalStep[] {
  const step = (title: string, dir: RehearsalStep['dir'], argv: string[]): RehearsalStep => ({
    kind: 'command',
    title,
    dir,
    argv,
  });
  return [
    step('bring up the twin', '.', ['zx', 'scripts/twin.mjs', 'up']),
    ...(skipSetup
      ? []
      : [step('converge it: ansible-playbook setup.yml', 'ansible', ['ansible-playbook', 'setup.yml'])]),
    step('build and deploy the backend', '.', [
      'zx',
      'scripts/deploy.mjs',
      'deploy',
      ...(dryRun ? ['--dry-run'] : []),
    ]),
  ];
}

export const SITE_LINES = [
  'The site: https://localhost:8443 (Caddy internal CA: curl -k), SSH: npm run twin -- ssh',
  'Next: npm run deploy -- status | releases | rollback; npm run twin -- down',
];
