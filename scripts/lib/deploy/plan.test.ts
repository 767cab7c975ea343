import { describe, expect, it } from 'vitest';
import { actor, deployArgs, empty, twoReleases } from '../../../test/support/deploy-fixtures.ts';
import * as cmd from './commands.ts';
import { cleanupPlan, deployPlan, rollbackPlan, unlockPlan } from './plan.ts';
import { rollbackTarget } from './state.ts';

const args = deployArgs;
const ids = (steps: { id: string }[]) => steps.map((s) => s.id);
// Every deploy and rollback ends the same way once its colour is started.
// The lock is not a step: the CLI takes its lease before it reads the VM (lease.ts). The state is
// recorded at the switch, so a session cut after it leaves state.json true.
const ACTIVATE = ['ready', 'switch', 'state', 'verify', 'drain', 'record', 'audit', 'unlock'];
const SHIP = ['save', 'mkdir', 'upload', 'load'];

describe('deploy plan', () => {
  it('first deploy: ships the image, starts blue, switches, records; no old colour to drain', () => {
    const plan = deployPlan(empty(), args);
    expect(ids(plan.steps)).toEqual([
      'save',
      'mkdir',
      'upload',
      'load',
      'migrations',
      'schema',
      'migrate',
      'start',
      'ready',
      'switch',
      'state',
      'verify',
      'record',
      'audit',
      'unlock',
    ]);
    expect(plan.steps.find((s) => s.id === 'start')).toMatchObject({
      host: 'vm',
      argv: expect.arrayContaining(['e2m-app-blue']),
    });
    expect(plan.steps.find((s) => s.id === 'save')).toMatchObject({ host: 'local' });
    // after the switch, a failure puts the maintenance page back: there is no old colour
    expect(ids(plan.rescueAfterSwitch)).toEqual([
      'switch-back',
      'state-back',
      'verify-back',
      'stop-new',
      'record-failure',
      'audit',
      'unlock',
    ]);
  });

  it('next deploy: goes to the idle colour, removes its parked container, drains the serving one', () => {
    const plan = deployPlan(twoReleases(), args);
    expect(ids(plan.steps)).toEqual([
      ...SHIP,
      'migrations',
      'schema',
      'migrate',
      'clear',
      'start',
      ...ACTIVATE,
    ]);
    expect(plan.steps.find((s) => s.id === 'drain')).toMatchObject({
      argv: cmd.stopColour('green'),
      check: { kind: 'drain', container: 'e2m-app-green', timeoutS: 30 },
    });
    expect(ids(plan.rescueBeforeSwitch)).toEqual(['stop-new', 'record-failure', 'audit', 'unlock']);
    expect(ids(plan.rescueAfterSwitch)).toEqual([
      'restart-old',
      'ready-old',
      'switch-back',
      'state-back',
      'verify-back',
      'stop-new',
      'record-failure',
      'audit',
      'unlock',
    ]);
  });

  it('skips shipping when the VM already has the image id', () => {
    const view = twoReleases();
    view.images.push({ ref: 'e2m/backend:v3', tag: 'v3', id: 'sha256:v3', sizeBytes: 1 });
    expect(ids(deployPlan(view, args).steps)).not.toContain('upload');
    view.images.pop();
    view.images.push({ ref: 'e2m/backend:other', tag: 'other', id: 'sha256:v3', sizeBytes: 1 });
    const plan = deployPlan(view, args);
    expect(plan.steps.find((s) => s.id === 'tag')).toMatchObject({
      argv: ['docker', 'tag', 'sha256:v3', 'e2m/backend:v3'],
    });
  });

  it('refuses to deploy the release that is already serving', () => {
    expect(() => deployPlan(twoReleases(), { ...args, release: 'v2' })).toThrow(/already serving/);
  });
});

describe('rollback plan', () => {
  it('starts the parked container when it holds the target release: no image work, no migration', () => {
    const view = twoReleases();
    const plan = rollbackPlan(view, rollbackTarget(view), 'localhost', actor);
    expect(ids(plan.steps)).toEqual(['start', ...ACTIVATE]);
    expect(plan.steps[0]).toMatchObject({ argv: ['docker', 'start', 'e2m-app-blue'] });
    expect(plan.record).toMatchObject({ id: 'v1', outcome: 'rolled-back', colour: 'blue' });
    // a failed rollback stops the parked container but never deletes it
    expect(plan.rescueBeforeSwitch[0]).toMatchObject({
      id: 'stop-new',
      argv: cmd.stopContainer('blue', 'localhost'),
    });
  });

  it('refuses a rollback past a destructive schema change, naming it, unless forced', () => {
    const view = twoReleases();
    const schemas = { v2: { pending: ['M2'], statements: { M2: ['alter table `notes` drop `body`'] } } };
    expect(() =>
      rollbackPlan(view, rollbackTarget(view), 'localhost', actor, { schemas, force: false }),
    ).toThrow(
      /^rolling back to v1 would run its code on a schema changed destructively since: M2 would drop a column/,
    );
    expect(
      rollbackPlan(view, rollbackTarget(view), 'localhost', actor, { schemas, force: true }).action,
    ).toBe('rollback');
    const additive = {
      v2: { pending: ['M2'], statements: { M2: ['alter table `notes` add `tags` text null'] } },
    };
    expect(() =>
      rollbackPlan(view, rollbackTarget(view), 'localhost', actor, { schemas: additive, force: false }),
    ).not.toThrow();
  });

  it('fails with a clear message when the release image is gone', () => {
    const view = twoReleases();
    view.containers = view.containers.filter((c) => c.colour === 'green');
    view.images = view.images.filter((i) => i.tag !== 'v1');
    expect(() => rollbackPlan(view, rollbackTarget(view), 'localhost', actor)).toThrow(
      /no longer on the VM; deploy it again with --image/,
    );
  });
});

describe('cleanup and lock plans', () => {
  it('removes exactly what retention says, under the lock, audited', () => {
    const plan = cleanupPlan(twoReleases(), 1, actor);
    expect(ids(plan.steps)).toEqual(['audit', 'unlock']); // v1 is parked, v2 serving: both in use
  });

  it("unlock refuses someone else's lock without --force", () => {
    const view = {
      ...twoReleases(),
      lock: { who: 'other@x', host: 'ci', command: 'deploy v9', pid: 1, time: actor.now },
    };
    expect(() => unlockPlan(view, actor, false)).toThrow(/held by other@x@ci.*--force/);
    expect(ids(unlockPlan(view, actor, true).steps)).toEqual(['unlock', 'audit']);
    expect(() => unlockPlan(twoReleases(), actor, true)).toThrow(/not locked/);
  });
});

describe('retention after a deploy', () => {
  it('removes, once the new colour serves, what falls out of the newest N; never the parked or serving images', () => {
    const view = twoReleases();
    const plan = deployPlan(view, { ...args, keep: 1 });
    // after the deploy: v3 serves on blue (v1's container cleared), v2 is parked on green
    const prune = plan.steps.filter((s) => s.id === 'prune');
    expect(prune).toEqual([
      expect.objectContaining({
        kind: 'run',
        argv: ['docker', 'image', 'rm', 'e2m/backend:v1'],
        optional: true,
      }),
    ]);
    // pruning happens after the release is recorded, inside the lock, and is in the audit line
    const order = ids(plan.steps);
    expect(order.indexOf('prune')).toBeGreaterThan(order.indexOf('record'));
    expect(order.at(-1)).toBe('unlock');
    const audit = plan.steps.find((s) => s.id === 'audit');
    expect(audit?.kind === 'run' && audit.argv.join(' ')).toContain('"pruned":["e2m/backend:v1"]');
  });

  it('keeps everything while there are at most N releases (the default is 5)', () => {
    expect(ids(deployPlan(twoReleases(), args).steps)).not.toContain('prune');
  });
});
