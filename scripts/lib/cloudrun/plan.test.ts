import { describe, expect, it } from 'vitest';
import {
  deployPlan,
  type Job,
  PlanError,
  type Revision,
  renderPlan,
  revisionName,
  rollbackPlan,
  rollbackRevision,
  type Service,
  servingRevision,
} from './plan.ts';
import type { CloudRunTarget } from './target.ts';

const target: CloudRunTarget = {
  name: 'prod',
  platform: 'cloud_run',
  inventoryFile: 'inventory/gcp.yml',
  projectId: 'e2m-prod-000000',
  region: 'us-central1',
  service: 'e2m-prod',
  migrateJob: 'e2m-prod-migrate',
  serviceUrl: 'https://e2m-prod-abc123-uc.a.run.app',
  imageRepository: 'us-central1-docker.pkg.dev/e2m-prod-000000/e2m-prod',
  domain: 'api.example.com',
  bucket: 'e2m-prod-000000-e2m-prod-backups',
};
const SVC = 'projects/e2m-prod-000000/locations/us-central1/services/e2m-prod';
const JOB = 'projects/e2m-prod-000000/locations/us-central1/jobs/e2m-prod-migrate';
const IMAGE = 'us-central1-docker.pkg.dev/e2m-prod-000000/e2m-prod/backend:20261123-0700-abc1234';
const OLD = 'us-central1-docker.pkg.dev/e2m-prod-000000/e2m-prod/backend:20261120-0900-0ld0000';
const redis = { name: 'redis', image: 'docker.io/library/redis:7.4-alpine', args: ['--save', ''] };
const app = (image = OLD, release = '20261120-0900-0ld0000') => ({
  name: 'app',
  image,
  env: [
    { name: 'APP_ENV', value: 'prod' },
    { name: 'RELEASE', value: release },
  ],
  ports: [{ containerPort: 8080 }],
});

// As the client returns them: writable fields, output-only fields, enums as names.
const service = (over: Service = {}): Service => ({
  name: SVC,
  uid: 'u-1',
  generation: '7',
  etag: '"e-7"',
  ingress: 'INGRESS_TRAFFIC_ALL',
  template: { revision: 'e2m-prod-old', serviceAccount: 'run@x', containers: [app(), redis] },
  traffic: [{ type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST', percent: 100, revision: '', tag: '' }],
  latestReadyRevision: `${SVC}/revisions/e2m-prod-old`,
  latestCreatedRevision: `${SVC}/revisions/e2m-prod-old`,
  trafficStatuses: [
    { type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST', percent: 100, revision: 'e2m-prod-old' },
  ],
  uri: 'https://e2m-prod-abc123-uc.a.run.app',
  conditions: [],
  ...over,
});
const job = (): Job => ({
  name: JOB,
  uid: 'j-1',
  etag: '"j-2"',
  executionCount: 4,
  template: {
    taskCount: 1,
    template: { maxRetries: 0, containers: [{ ...app(), ports: [], args: ['migrate'] }] },
  },
});
const revision = (short: string, minute: number, ready = true, release?: string): Revision => ({
  name: `${SVC}/revisions/${short}`,
  createTime: { seconds: String(1_763_900_000 + minute * 60), nanos: 0 },
  conditions: [{ type: 'Ready', state: ready ? 'CONDITION_SUCCEEDED' : 'CONDITION_FAILED' }],
  containers: [{ name: 'app', env: release ? [{ name: 'RELEASE', value: release }] : [] }],
});
const NOW = '2026-11-23T07:05:09.123Z';

describe('revisionName', () => {
  it('is <service>-<release>-<hhmmss>, lowercase, at most 63 characters', () => {
    expect(revisionName('e2m-prod', '20261123-0700-abc1234', NOW)).toBe(
      'e2m-prod-20261123-0700-abc1234-070509',
    );
    expect(revisionName('e2m-prod', 'V1.2.3+Dirty', NOW)).toBe('e2m-prod-v1-2-3-dirty-070509');
    const long = revisionName('e2m-staging', 'x'.repeat(80), NOW);
    expect(long).toHaveLength(63);
    expect(long).toMatch(/^e2m-staging-x+-070509$/);
  });
});

describe('deployPlan', () => {
  it('moves the migrate job to the image, runs it, then a new revision with all traffic; the rescue pins the old one', () => {
    const plan = deployPlan(target, service(), job(), {
      image: IMAGE,
      release: '20261123-0700-abc1234',
      now: NOW,
    });
    const rev = 'e2m-prod-20261123-0700-abc1234-070509';
    expect(plan.action).toBe('deploy');
    expect(plan.revision).toBe(`${SVC}/revisions/${rev}`);
    expect(plan.summary).toBe(
      `${IMAGE} as revision ${rev} of e2m-prod (us-central1); serving now: e2m-prod-old`,
    );
    const newApp = {
      ...app(IMAGE),
      env: [
        { name: 'APP_ENV', value: 'prod' },
        { name: 'RELEASE', value: '20261123-0700-abc1234' },
      ],
    };
    const newService = {
      name: SVC,
      etag: '"e-7"',
      ingress: 'INGRESS_TRAFFIC_ALL',
      client: 'e2m-deploy',
      template: { revision: rev, serviceAccount: 'run@x', containers: [newApp, redis] },
      traffic: [{ type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST', percent: 100 }],
    };
    expect(plan.steps).toEqual([
      {
        kind: 'call',
        id: 'job-image',
        title: 'point the migrate job e2m-prod-migrate at the new image',
        call: {
          client: 'jobs',
          method: 'updateJob',
          request: {
            job: {
              name: JOB,
              etag: '"j-2"',
              client: 'e2m-deploy',
              template: {
                taskCount: 1,
                template: { maxRetries: 0, containers: [{ ...newApp, ports: [], args: ['migrate'] }] },
              },
            },
          },
        },
      },
      {
        kind: 'call',
        id: 'migrate',
        title: 'run the migrations (job e2m-prod-migrate)',
        call: { client: 'jobs', method: 'runJob', request: { name: JOB } },
        expect: { succeededTasks: 1 },
      },
      {
        kind: 'call',
        id: 'service',
        title: `create revision ${rev} and send it all traffic once ready`,
        call: { client: 'services', method: 'updateService', request: { service: newService } },
        switches: true,
        expect: { latestReadyRevision: `${SVC}/revisions/${rev}` },
      },
      {
        kind: 'probe',
        id: 'verify',
        title:
          'GET https://e2m-prod-abc123-uc.a.run.app/readyz answers 200 with release 20261123-0700-abc1234',
        url: 'https://e2m-prod-abc123-uc.a.run.app/readyz',
        release: '20261123-0700-abc1234',
        timeoutMs: 60_000,
        intervalMs: 1_000,
      },
    ]);
    const { etag: _etag, ...withoutEtag } = newService;
    expect(plan.rescueAfterSwitch).toEqual([
      {
        kind: 'call',
        id: 'traffic-back',
        title: 'send all traffic back to e2m-prod-old',
        call: {
          client: 'services',
          method: 'updateService',
          request: {
            service: {
              ...withoutEtag,
              traffic: [
                { type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: 'e2m-prod-old', percent: 100 },
              ],
            },
          },
        },
        expect: { servingRevision: 'e2m-prod-old' },
      },
    ]);
  });

  it('refuses an image that is not a pushed registry reference, and a service without the app container', () => {
    const args = { image: 'e2m/backend:1', release: '1', now: NOW };
    expect(() => deployPlan(target, service(), job(), args)).toThrow(PlanError);
    expect(() => deployPlan(target, service(), job(), args)).toThrow(/pushed registry image/);
    const noApp = service({ template: { containers: [redis, { name: 'other' }] } });
    expect(() => deployPlan(target, noApp, job(), { ...args, image: IMAGE })).toThrow(
      /no container named app/,
    );
  });
});

describe('servingRevision and rollbackRevision', () => {
  const revisions = [
    revision('e2m-prod-c', 30),
    revision('e2m-prod-broken', 25, false),
    revision('e2m-prod-b', 20, true, 'rel-b'),
    revision('e2m-prod-a', 10),
  ];
  const at = (short: string) => service({ latestReadyRevision: `${SVC}/revisions/${short}` });
  const pinned = (short: string) =>
    service({
      traffic: [{ type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: short, percent: 100 }],
    });

  it('reads the serving revision from LATEST or from a pinned revision', () => {
    expect(servingRevision(at('e2m-prod-c'))).toBe('e2m-prod-c');
    expect(servingRevision(pinned('e2m-prod-a'))).toBe('e2m-prod-a');
    expect(servingRevision(service({ traffic: [] }))).toBeUndefined();
  });

  it('goes to the newest ready revision older than the serving one, skipping failed ones', () => {
    expect(rollbackRevision(at('e2m-prod-c'), revisions)).toBe('e2m-prod-b');
    // a second rollback goes further back
    expect(rollbackRevision(pinned('e2m-prod-b'), revisions)).toBe('e2m-prod-a');
  });

  it('takes a named ready revision, refuses an unknown, a failed or the serving one, and the oldest', () => {
    expect(rollbackRevision(at('e2m-prod-c'), revisions, 'e2m-prod-a')).toBe('e2m-prod-a');
    expect(() => rollbackRevision(at('e2m-prod-c'), revisions, 'e2m-prod-broken')).toThrow(
      /not a ready revision/,
    );
    expect(() => rollbackRevision(at('e2m-prod-c'), revisions, 'e2m-prod-c')).toThrow(/already serving/);
    expect(() => rollbackRevision(pinned('e2m-prod-a'), revisions)).toThrow(/no ready revision older/);
  });

  it("rollbackPlan pins the traffic without a new revision, then probes for that revision's release", () => {
    const plan = rollbackPlan(target, at('e2m-prod-c'), revisions);
    expect(plan.summary).toBe('traffic of e2m-prod from e2m-prod-c to e2m-prod-b');
    expect(plan.steps).toEqual([
      {
        kind: 'call',
        id: 'traffic',
        title: 'send all traffic to e2m-prod-b',
        call: {
          client: 'services',
          method: 'updateService',
          request: {
            service: {
              name: SVC,
              etag: '"e-7"',
              ingress: 'INGRESS_TRAFFIC_ALL',
              template: { revision: 'e2m-prod-old', serviceAccount: 'run@x', containers: [app(), redis] },
              client: 'e2m-deploy',
              traffic: [
                { type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: 'e2m-prod-b', percent: 100 },
              ],
            },
          },
        },
        switches: true,
        expect: { servingRevision: 'e2m-prod-b' },
      },
      {
        kind: 'probe',
        id: 'verify',
        title: 'GET https://e2m-prod-abc123-uc.a.run.app/readyz answers 200 with release rel-b',
        url: 'https://e2m-prod-abc123-uc.a.run.app/readyz',
        release: 'rel-b',
        timeoutMs: 60_000,
        intervalMs: 1_000,
      },
    ]);
    expect(plan.rescueAfterSwitch).toEqual([]);
  });

  it('renders a dry run with every request', () => {
    const text = renderPlan(rollbackPlan(target, at('e2m-prod-c'), revisions));
    expect(text.split('\n')[0]).toBe('rollback: traffic of e2m-prod from e2m-prod-c to e2m-prod-b');
    expect(text).toContain(
      '1/2 send all traffic to e2m-prod-b\n    services.updateService {"service":{"name":',
    );
  });
});
