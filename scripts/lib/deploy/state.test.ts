import { describe, expect, it } from 'vitest';
import { empty, rel, twoReleases } from '../../../test/support/deploy-fixtures.ts';
import {
  isStale,
  nextColour,
  parseContainers,
  parseImages,
  parseSize,
  parseWarm,
  reconcile,
  retention,
  rollbackTarget,
  StateError,
} from './state.ts';

describe('reading the VM', () => {
  it('reads the warm file: colour, end (epoch seconds, as ISO) and release; anything else is none', () => {
    expect(parseWarm('green 1764745200 20261203T061500-abc1234\n')).toEqual({
      colour: 'green',
      release: '20261203T061500-abc1234',
      until: '2025-12-03T07:00:00.000Z',
    });
    for (const junk of ['', 'red 1764745200 r1', 'blue soon r1', 'blue'])
      expect(parseWarm(junk)).toBeUndefined();
  });

  it('parses docker ps lines into our containers by label, ignoring others', () => {
    const lines = [
      JSON.stringify({
        Names: 'e2m-app-blue',
        Labels: 'e2m.app=backend,e2m.colour=blue,e2m.release=r1',
        State: 'exited',
        Image: 'e2m/backend:r1',
      }),
      JSON.stringify({ Names: 'other', Labels: 'foo=bar', State: 'running', Image: 'x' }),
    ].join('\n');
    expect(parseContainers(lines)).toEqual([
      { name: 'e2m-app-blue', colour: 'blue', release: 'r1', running: false, image: 'e2m/backend:r1' },
    ]);
  });

  it('parses image sizes as docker prints them', () => {
    expect(parseSize('120MB')).toBe(120_000_000);
    expect(parseSize('1.5GB')).toBe(1_500_000_000);
    expect(parseSize('512kB')).toBe(512_000);
    const img = parseImages(
      JSON.stringify({ Repository: 'e2m/backend', Tag: 'r1', ID: 'sha256:abc', Size: '120.3MB' }),
    );
    expect(img).toEqual([{ ref: 'e2m/backend:r1', tag: 'r1', id: 'sha256:abc', sizeBytes: 120_300_000 }]);
  });
});

describe('decisions', () => {
  it('starts blue first, then alternates', () => {
    expect(nextColour(empty())).toBe('blue');
    expect(nextColour(twoReleases())).toBe('blue');
  });

  it('rolls back to the newest other release, or the named one, and says why not', () => {
    const view = twoReleases();
    expect(rollbackTarget(view).id).toBe('v1');
    expect(rollbackTarget(view, 'v1').id).toBe('v1');
    expect(() => rollbackTarget(view, 'v2')).toThrow(/already the one serving/);
    expect(() => rollbackTarget(view, 'v9')).toThrow(/never deployed.*known: v2, v1/);
    expect(() => rollbackTarget(empty())).toThrow(StateError);
    view.releases.push(rel('v3', 'failed', 'blue'));
    expect(rollbackTarget(view).id).toBe('v1'); // a failed release is never a rollback target
  });

  it('keeps the N newest releases, images in use, and protected tags; frees each removed id once', () => {
    const view = twoReleases();
    for (const id of ['v3', 'v4', 'v5', 'v6', 'v7']) {
      view.releases.push(rel(id));
      view.images.push({ ref: `e2m/backend:${id}`, tag: id, id: rel(id).imageId, sizeBytes: 100e6 });
    }
    view.images.push({ ref: 'e2m/backend:latest', tag: 'latest', id: rel('v7').imageId, sizeBytes: 100e6 });
    view.images.push({ ref: 'e2m/backend:1.2.0', tag: '1.2.0', id: 'sha256:old', sizeBytes: 100e6 });
    view.images.push({ ref: 'e2m/backend:scratch', tag: 'scratch', id: 'sha256:scratch', sizeBytes: 50e6 });
    const plan = retention(view, 3);
    expect(plan.remove.map((i) => i.ref).sort()).toEqual([
      'e2m/backend:scratch',
      'e2m/backend:v3',
      'e2m/backend:v4',
    ]);
    expect(plan.keep.map((k) => k.ref).sort()).toEqual(
      [
        'e2m/backend:1.2.0',
        'e2m/backend:latest',
        'e2m/backend:v1',
        'e2m/backend:v2',
        'e2m/backend:v5',
        'e2m/backend:v6',
        'e2m/backend:v7',
      ].sort(),
    );
    expect(plan.freedBytes).toBe(250e6);
    expect(() => retention(view, 0)).toThrow(/--keep/);
  });

  it('calls a lock stale after 30 minutes', () => {
    const lock = { who: 'a', host: 'h', command: 'deploy', pid: 1, time: '2026-11-23T03:00:00.000Z' };
    expect(isStale(lock, new Date('2026-11-23T03:29:00.000Z'))).toBe(false);
    expect(isStale(lock, new Date('2026-11-23T03:31:00.000Z'))).toBe(true);
  });
});

describe('reconcile', () => {
  const view = () => twoReleases();
  it('leaves a view that agrees with the proxy alone', () => {
    expect(reconcile(view(), { release: 'v2' }, 'now')).toEqual({ view: view() });
  });
  it('leaves the view alone when the proxy names no release (maintenance page, proxy down)', () => {
    expect(reconcile(view(), {}, 'now').repair).toBeUndefined();
  });
  it('takes the running container of the served release as active, and says why', () => {
    const v = view();
    v.containers[0].running = true; // blue runs v1, and the proxy serves it
    const r = reconcile(v, { release: 'v1' }, 'now');
    expect(r.view.active).toEqual({ colour: 'blue', release: 'v1', image: 'e2m/backend:v1', since: 'now' });
    expect(r.repair?.why).toBe('state.json says v2 on green, but the proxy serves v1 from e2m-app-blue');
  });
});
