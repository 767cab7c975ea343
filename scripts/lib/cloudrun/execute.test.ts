// The executor through the real @google-cloud/run client (REST transport, plain http) against a
// local fake of the Cloud Run Admin API: real requests on a socket, nothing of the library mocked.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeCloudRun } from '../../../test/support/cloud-run-fake.ts';
import { type Clients, createClients, execute, readView, type StepEvent } from './execute.ts';
import { deployPlan, rollbackPlan } from './plan.ts';
import type { CloudRunTarget } from './target.ts';

const IMAGE = 'us-central1-docker.pkg.dev/e2m-test-000000/e2m/backend:rel-3';
const NOW = '2026-11-23T07:10:00.000Z';
const NEW_REVISION = 'e2m-prod-rel-3-071000';
let fake: FakeCloudRun;
let clients: Clients;
let target: CloudRunTarget;
// The probe polls once a second for up to 60 s; here its clock moves only when it sleeps.
let clock = 0;
const fast = {
  now: () => clock,
  sleep: async (ms: number) => {
    clock += ms;
  },
};

beforeEach(async () => {
  fake = new FakeCloudRun({
    project: 'e2m-test-000000',
    region: 'us-central1',
    service: 'e2m-prod',
    job: 'e2m-prod-migrate',
    releases: ['rel-1', 'rel-2'],
  });
  await fake.start();
  target = {
    name: 'prod',
    platform: 'cloud_run',
    inventoryFile: 'inventory/gcp.yml',
    projectId: 'e2m-test-000000',
    region: 'us-central1',
    service: 'e2m-prod',
    migrateJob: 'e2m-prod-migrate',
    serviceUrl: fake.serviceUrl,
    imageRepository: 'us-central1-docker.pkg.dev/e2m-test-000000/e2m',
    domain: 'api.example.com',
    bucket: 'b',
    apiEndpoint: fake.endpoint,
  };
  clients = createClients(target);
});
afterEach(async () => {
  await clients.close();
  await fake.stop();
});

const calls = () => fake.requests.map((r) => `${r.method} ${r.path}`);
const SVC = '/v2/projects/e2m-test-000000/locations/us-central1/services/e2m-prod';
const JOB = '/v2/projects/e2m-test-000000/locations/us-central1/jobs/e2m-prod-migrate';
const OP = (n: number) => `GET /v2/projects/e2m-test-000000/locations/us-central1/operations/op-${n}`;

async function deploy(events: StepEvent[] = []) {
  const view = await readView(clients, target);
  const plan = deployPlan(target, view.service, view.job, { image: IMAGE, release: 'rel-3', now: NOW });
  fake.requests.length = 0;
  const outcome = await execute(plan, clients, { ...fast, onEvent: (e) => events.push(e) });
  return { plan, outcome };
}

describe('readView', () => {
  it('reads the service, the migrate job and the revisions, newest first', async () => {
    const view = await readView(clients, target);
    expect(view.service.latestReadyRevision).toBe(
      'projects/e2m-test-000000/locations/us-central1/services/e2m-prod/revisions/e2m-prod-rel-2',
    );
    expect(view.service.traffic?.[0]).toMatchObject({
      type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST',
      percent: 100,
    });
    expect(view.job.template?.template?.containers?.[0].args).toEqual(['migrate']);
    expect(view.revisions.map((r) => r.name?.split('/').pop())).toEqual(['e2m-prod-rel-2', 'e2m-prod-rel-1']);
    expect(calls()).toEqual([`GET ${SVC}`, `GET ${JOB}`, `GET ${SVC}/revisions`]);
  });
});

describe('execute a deploy', () => {
  it('updates the job, runs the migrations, rolls out the new revision and verifies its release', async () => {
    const events: StepEvent[] = [];
    const { outcome } = await deploy(events);
    expect(outcome).toMatchObject({ ok: true, switched: true, serving: NEW_REVISION, rescueErrors: [] });
    expect(calls()).toEqual([`PATCH ${JOB}`, OP(1), `POST ${JOB}:run`, OP(2), `PATCH ${SVC}`, OP(3)]);
    // What the API received: the new image and RELEASE, the sidecar untouched, all traffic to LATEST.
    const patch = fake.requests[4].body ?? {};
    expect(patch.template.revision).toBe(NEW_REVISION);
    expect(patch.template.containers.map((c: { name: string; image: string }) => [c.name, c.image])).toEqual([
      ['app', IMAGE],
      ['redis', 'docker.io/library/redis:7.4-alpine'],
    ]);
    expect(patch.template.containers[0].env).toContainEqual({ name: 'RELEASE', value: 'rel-3' });
    // proto3 JSON as the REST transport sends it: enums as numbers (1: LATEST), defaults left out
    expect(patch.traffic).toEqual([{ type: 1, percent: 100 }]);
    expect(patch.etag).toBe('"etag-3"');
    expect(patch.uid).toBeFalsy();
    expect(fake.requests[0].body?.template.template.containers[0].image).toBe(IMAGE);
    expect(fake.serving()).toBe(NEW_REVISION);
    expect(events.filter((e) => e.type === 'done').map((e) => e.step.id)).toEqual([
      'job-image',
      'migrate',
      'service',
      'verify',
    ]);
  });

  it('stops before the service when the migrations fail: the old revision keeps serving', async () => {
    fake.failNextRun = true;
    const { outcome } = await deploy();
    expect(outcome).toMatchObject({ ok: false, failedStep: 'migrate', switched: false });
    expect(outcome.error).toMatch(/migrate exited with code 1/);
    expect(calls()).not.toContain(`PATCH ${SVC}`);
    expect(fake.serving()).toBe('e2m-prod-rel-2');
  });

  it('reports a revision that never gets ready; Cloud Run left the traffic on the old one', async () => {
    fake.failNextRevision = true;
    const { outcome } = await deploy();
    expect(outcome).toMatchObject({ ok: false, failedStep: 'service', switched: false });
    expect(outcome.error).toMatch(/failed the configured startup probe/);
    expect(fake.serving()).toBe('e2m-prod-rel-2');
  });

  it('sends the traffic back to the old revision when the new one fails the verification', async () => {
    fake.readyzStatus = 503;
    const { outcome } = await deploy();
    expect(outcome).toMatchObject({ ok: false, failedStep: 'verify', switched: true, rescueErrors: [] });
    expect(outcome.error).toMatch(/not ready after 60 s: HTTP 503/);
    const back = fake.requests.filter((r) => r.method === 'PATCH' && r.path === SVC)[1].body ?? {};
    expect(back.traffic).toEqual([{ type: 2, revision: 'e2m-prod-rel-2', percent: 100 }]);
    // no etag: it changed with the deploy; the same template, so no new revision either
    expect(back.etag).toBeUndefined();
    expect(back.template.revision).toBe(NEW_REVISION);
    expect(fake.serving()).toBe('e2m-prod-rel-2');
    expect(outcome.serving).toBe('e2m-prod-rel-2');
  });
});

describe('execute a rollback', () => {
  it('pins all traffic on the previous revision, with no new revision', async () => {
    await deploy();
    const view = await readView(clients, target);
    const plan = rollbackPlan(target, view.service, view.revisions);
    fake.requests.length = 0;
    const before = fake.revisions.length;
    const outcome = await execute(plan, clients, fast);
    expect(outcome).toMatchObject({ ok: true, serving: 'e2m-prod-rel-2' });
    expect(calls()).toEqual([`PATCH ${SVC}`, OP(4)]);
    expect(fake.revisions).toHaveLength(before);
    // The probe saw the old revision's release.
    expect(plan.steps[1]).toMatchObject({ kind: 'probe', release: 'rel-2' });
  });
});
