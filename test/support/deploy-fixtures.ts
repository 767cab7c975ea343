// Shared test data: a VM view as `readView` would parse it.
import type { Actor } from '../../scripts/lib/deploy/plan.ts';
import type { ReleaseRecord, VmView } from '../../scripts/lib/deploy/state.ts';

export const actor: Actor = {
  who: 'dev@example.com',
  host: 'laptop',
  pid: 42,
  now: '2026-11-23T04:00:00.000Z',
};

export const rel = (
  id: string,
  outcome: ReleaseRecord['outcome'] = 'deployed',
  colour: ReleaseRecord['colour'] = 'blue',
): ReleaseRecord => ({
  id,
  image: `e2m/backend:${id}`,
  imageId: `sha256:${id.padEnd(64, '0')}`,
  gitSha: `${id}sha`,
  time: '2026-11-22T10:00:00.000Z',
  who: 'dev@example.com',
  outcome,
  colour,
});

/** v1 deployed to blue, then v2 to green (blue parked), as after two deploys. */
export function twoReleases(): VmView {
  return {
    active: { colour: 'green', release: 'v2', image: 'e2m/backend:v2', since: '2026-11-22T11:00:00.000Z' },
    releases: [rel('v1', 'deployed', 'blue'), rel('v2', 'deployed', 'green')],
    containers: [
      { name: 'e2m-app-blue', colour: 'blue', release: 'v1', running: false, image: 'e2m/backend:v1' },
      { name: 'e2m-app-green', colour: 'green', release: 'v2', running: true, image: 'e2m/backend:v2' },
    ],
    images: [
      { ref: 'e2m/backend:v1', tag: 'v1', id: rel('v1').imageId, sizeBytes: 120e6 },
      { ref: 'e2m/backend:v2', tag: 'v2', id: rel('v2').imageId, sizeBytes: 120e6 },
    ],
  };
}

export const empty = (): VmView => ({ releases: [], containers: [], images: [] });

/** Arguments of a deploy of v3 (image built, not yet on the VM). */
export const deployArgs = {
  image: 'e2m/backend:v3',
  imageId: 'sha256:v3',
  release: 'v3',
  gitSha: 'abc1234',
  domain: 'localhost',
  localArchive: '/tmp/v3.tar.zst',
  actor,
};
