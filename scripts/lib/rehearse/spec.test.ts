// `npm run rehearse -- --help`, written from its table: the very text the entry printed before its
// command line became a table, line for line; and its two flags, read strictly.
import { describe, expect, it } from 'vitest';
import { decide, mainHelp } from '../cli/args.ts';
import { rehearseSpec } from './spec.ts';

describe('rehearse --help', () => {
  it('is the help the entry has always printed', () => {
    expect(mainHelp(rehearseSpec).split('\n')).toEqual([
      'Usage: npm run rehearse [-- --dry-run] [-- --skip-setup]',
      '',
      'Runs, in order, what you would run against GCP, on the local twin:',
      '  1. npm run twin -- up                 (a Debian 12 host with 1 GB, on loopback)',
      '  2. ansible-playbook setup.yml         (from ansible/, inventory/twin.yml)',
      '  3. zx scripts/deploy.mjs deploy       (build the image, deploy it blue-green)',
      "Then prints where the site answers. --dry-run shows the deploy's plan instead of running it;",
      '--skip-setup skips step 2 when the twin is already converged.',
    ]);
  });

  it('answers --help and -h with it (exit 0), and runs the rehearsal without a word', () => {
    expect(decide(rehearseSpec, ['--help'])).toEqual({ kind: 'help', text: mainHelp(rehearseSpec), code: 0 });
    expect(decide(rehearseSpec, ['-h'])).toMatchObject({ kind: 'help', code: 0 });
    expect(decide(rehearseSpec, [])).toMatchObject({
      kind: 'run',
      invocation: { command: 'rehearse', values: {} },
    });
  });

  it('reads --dry-run and --skip-setup; a misspelt flag is a usage error, not a rehearsal', () => {
    expect(decide(rehearseSpec, ['--skip-setup', '--dry-run'])).toMatchObject({
      kind: 'run',
      invocation: { command: 'rehearse', values: { 'dry-run': true, 'skip-setup': true } },
    });
    expect(decide(rehearseSpec, ['--skip-set-up'])).toMatchObject({
      kind: 'usage',
      message: 'unknown option --skip-set-up (see --help)',
    });
  });
});
