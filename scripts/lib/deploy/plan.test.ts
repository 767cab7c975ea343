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
// The old colour stays warm (running, out of rotation) by default; --warm-for 0 drains it at once.
const ACTIVATE = ['ready', 'switch', 'state', 'verify', 'warm', 'record', 'audit', 'unlock'];
const DRAINED = ACTIVATE.map((id) => (id === 'warm' ? 'drain' : id));

/** twoReleases just after v2's deploy: v1 still runs on blue, warm until 04:15. */
function warmV1() {
  const view = twoReleases();
  view.containers[0].running = true;
  view.warm = { colour: 'blue' as const, release: 'v1', until: '2026-11-23T04:15:00.000Z' };
  return view;
}
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
    expect(plan.steps.find((s) => s.id === 'save')).toMatchObject({
      kind: 'save',
      image: args.image,
      vmChains: [],
    });
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

  it('next deploy: goes to the idle colour, removes its parked container, keeps the serving one warm', () => {
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
    // after the proxy answers from v3: green keeps running v2 for the default window
    expect(plan.steps.find((s) => s.id === 'warm')).toMatchObject({
      argv: cmd.keepWarm('green', 'v2', 900),
    });
    expect(ids(plan.steps).indexOf('warm')).toBeGreaterThan(ids(plan.steps).indexOf('verify'));
    expect(ids(plan.rescueBeforeSwitch)).toEqual(['stop-new', 'record-failure', 'audit', 'unlock']);
    expect(ids(plan.rescueAfterSwitch)).toEqual([
      'restart-old',
      'ready-old',
      'switch-back',
      'unwarm-back',
      'state-back',
      'verify-back',
      'stop-new',
      'record-failure',
      'audit',
      'unlock',
    ]);
  });

  it('--warm-for sets the window; 0 drains and stops the old colour at once, as before', () => {
    expect(
      deployPlan(twoReleases(), { ...args, warmForS: 30 }).steps.find((s) => s.id === 'warm'),
    ).toMatchObject({
      argv: cmd.keepWarm('green', 'v2', 30),
      title: expect.stringContaining('warm for 30 s'),
    });
    const plan = deployPlan(twoReleases(), { ...args, warmForS: 0 });
    expect(ids(plan.steps)).toEqual([
      ...SHIP,
      'migrations',
      'schema',
      'migrate',
      'clear',
      'start',
      ...DRAINED,
    ]);
    expect(plan.steps.find((s) => s.id === 'drain')).toMatchObject({
      argv: cmd.stopColour('green'),
      check: { kind: 'drain', container: 'e2m-app-green', timeoutS: 30 },
    });
  });

  it('a deploy inside the warm window takes the warm colour off the parking schedule before it clears it', () => {
    const plan = deployPlan(warmV1(), args);
    const order = ids(plan.steps);
    expect(order.slice(order.indexOf('migrate') + 1, order.indexOf('start'))).toEqual(['unwarm', 'clear']);
    expect(plan.steps.find((s) => s.id === 'unwarm')).toMatchObject({ argv: ['rm', '-f', '/srv/app/warm'] });
  });

  it('a deploy that fails before it started its colour leaves the warm (or parked) one there', () => {
    const plan = deployPlan(warmV1(), args);
    // the rescue removes e2m-app-blue only while it holds v3, this deploy's release
    expect(plan.rescueBeforeSwitch[0]).toMatchObject({
      id: 'stop-new',
      argv: cmd.removeContainer('blue', 'localhost', 'v3'),
    });
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
    expect(plan.summary).not.toContain('warm');
    expect(plan.record).toMatchObject({ id: 'v1', outcome: 'rolled-back', colour: 'blue' });
    // a failed rollback stops the parked container but never deletes it
    expect(plan.rescueBeforeSwitch[0]).toMatchObject({
      id: 'stop-new',
      argv: cmd.stopContainer('blue', 'localhost'),
    });
  });

  it('inside the warm window: no start, one /readyz probe, the switch and its verify; the colour it leaves stays warm', () => {
    const view = warmV1();
    const plan = rollbackPlan(view, rollbackTarget(view), 'localhost', actor);
    expect(ids(plan.steps)).toEqual(['unwarm', ...ACTIVATE]);
    expect(plan.summary).toMatch(/^roll back to v1 on blue \(warm: just the switch\)/);
    expect(plan.steps.find((s) => s.id === 'ready')).toMatchObject({
      kind: 'wait',
      argv: cmd.readyProbe('blue'),
      timeoutMs: 5_000,
    });
    expect(plan.steps.find((s) => s.id === 'warm')).toMatchObject({ argv: cmd.keepWarm('green', 'v2', 900) });
    expect(
      ids(rollbackPlan(view, rollbackTarget(view), 'localhost', actor, undefined, { warmForS: 0 }).steps),
    ).toEqual(['unwarm', ...DRAINED]);
    // a failure before the switch parks the warm colour (stopped, kept), as a parked rollback does
    expect(plan.rescueBeforeSwitch[0]).toMatchObject({ argv: cmd.stopContainer('blue', 'localhost') });
  });

  it('a warm file whose container stopped, or holds another release, is a parked rollback', () => {
    const stopped = warmV1();
    stopped.containers[0].running = false;
    expect(ids(rollbackPlan(stopped, rollbackTarget(stopped), 'localhost', actor).steps)).toEqual([
      'unwarm',
      'start',
      ...ACTIVATE,
    ]);
    const other = warmV1();
    other.warm = { colour: 'blue', release: 'v0', until: '2026-11-23T04:15:00.000Z' };
    expect(ids(rollbackPlan(other, rollbackTarget(other), 'localhost', actor).steps)).not.toEqual([
      'unwarm',
      ...ACTIVATE,
    ]);
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
