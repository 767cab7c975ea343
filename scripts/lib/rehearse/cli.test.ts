// The rehearsal's steps as exact argv, and running them through a recording exec: the progress
// lines, where each runs, and the stop at the first failing step with its exit code.
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createContext } from '../cli/context.ts';
import { type Exec, rehearse } from './cli.ts';
import { rehearsalSteps } from './plan.ts';

describe('rehearsal steps', () => {
  it('twin up, the converge from ansible/, then the deploy', () => {
    expect(rehearsalSteps({ dryRun: false, skipSetup: false }).map((s) => [s.title, s.dir, s.argv])).toEqual([
      ['bring up the twin', '.', ['zx', 'scripts/twin.mjs', 'up']],
      ['converge it: ansible-playbook setup.yml', 'ansible', ['ansible-playbook', 'setup.yml']],
      ['build and deploy the backend', '.', ['zx', 'scripts/deploy.mjs', 'deploy']],
    ]);
  });

  it('--skip-setup drops the converge; --dry-run reaches the deploy only', () => {
    expect(rehearsalSteps({ dryRun: true, skipSetup: true }).map((s) => s.argv)).toEqual([
      ['zx', 'scripts/twin.mjs', 'up'],
      ['zx', 'scripts/deploy.mjs', 'deploy', '--dry-run'],
    ]);
  });
});

/** Runs the rehearsal with exit codes per argv[1] (default 0); returns what ran and what it said. */
async function rehearsal(values: Record<string, boolean>, codes: Record<string, number | null> = {}) {
  const ran: string[] = [];
  const exec: Exec = async (argv, cwd) => {
    ran.push(`${cwd}: ${argv.join(' ')}`);
    return argv[1] in codes ? codes[argv[1]] : 0;
  };
  const lines: string[] = [];
  const ctx = createContext(false, { write: (l) => lines.push(stripVTControlCharacters(l)) });
  const result = await rehearse({ command: 'rehearse', rest: [], values }, ctx, '/repo', exec);
  const said = [...lines, ...(result.text ? [stripVTControlCharacters(result.text)] : [])];
  return { ran, code: result.code, said: said.join('\n').replace(/\d+\.\d+s|\d+s/g, 'Ns') };
}

describe('rehearse', () => {
  it('runs each step where it belongs, numbered and timed, then says where the site is', async () => {
    const r = await rehearsal({});
    expect(r.ran).toEqual([
      '/repo: zx scripts/twin.mjs up',
      '/repo/ansible: ansible-playbook setup.yml',
      '/repo: zx scripts/deploy.mjs deploy',
    ]);
    expect(r.code).toBe(0);
    expect(r.said.split('\n')).toEqual([
      '',
      '[1/3] bring up the twin',
      '[1/3] done in Ns',
      '',
      '[2/3] converge it: ansible-playbook setup.yml',
      '[2/3] done in Ns',
      '',
      '[3/3] build and deploy the backend',
      '[3/3] done in Ns',
      '',
      'rehearsal done in Ns',
      'The site: https://localhost:8443 (Caddy internal CA: curl -k), SSH: npm run twin -- ssh',
      'Next: npm run deploy -- status | releases | rollback; npm run twin -- down',
    ]);
  });

  it('stops at the first failing step, names it and its exit code, and exits 1', async () => {
    const r = await rehearsal({ 'skip-setup': true }, { 'scripts/twin.mjs': 125 });
    expect(r.ran).toEqual(['/repo: zx scripts/twin.mjs up']);
    expect(r.code).toBe(1);
    expect(r.said.split('\n')).toEqual([
      '',
      '[1/2] bring up the twin',
      '',
      'rehearse failed at step 1 (bring up the twin), exit 125',
    ]);
  });

  it('a step killed by a signal (no exit code) fails the rehearsal too', async () => {
    const r = await rehearsal({ 'dry-run': true }, { 'scripts/deploy.mjs': null });
    expect(r.ran.at(-1)).toBe('/repo: zx scripts/deploy.mjs deploy --dry-run');
    expect(r.code).toBe(1);
    expect(r.said).toContain('rehearse failed at step 3 (build and deploy the backend), exit null');
  });
});
