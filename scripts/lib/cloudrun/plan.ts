// Pure: (the Cloud Run service and migrate job as read, arguments) -> the ordered API requests of a
// deploy or a rollback, as data. No I/O, no clock, no env: the executor (execute.ts) sends them
// through @google-cloud/run; a dry run prints them. Requests are whole resources (read, change,
// write back with the etag), the way gcloud and Terraform update Cloud Run: the v2 API replaces
// what it is sent, so each request carries every writable field it read.
import type { protos } from '@google-cloud/run';
import type { CloudRunTarget } from './target.ts';

type V2 = typeof protos.google.cloud.run.v2;
export type Service = protos.google.cloud.run.v2.IService;
export type Job = protos.google.cloud.run.v2.IJob;
export type Revision = protos.google.cloud.run.v2.IRevision;
type Container = protos.google.cloud.run.v2.IContainer;
type TrafficTarget = protos.google.cloud.run.v2.ITrafficTarget;

export type Call =
  | { client: 'jobs'; method: 'updateJob'; request: protos.google.cloud.run.v2.IUpdateJobRequest }
  | { client: 'jobs'; method: 'runJob'; request: protos.google.cloud.run.v2.IRunJobRequest }
  | {
      client: 'services';
      method: 'updateService';
      request: protos.google.cloud.run.v2.IUpdateServiceRequest;
    };

export type Step =
  | {
      kind: 'call';
      id: string;
      title: string;
      call: Call;
      /** Once this step is done, traffic may reach the new revision. */
      switches?: boolean;
      /** What the finished operation must show (the executor checks it). */
      expect?: { latestReadyRevision?: string; servingRevision?: string; succeededTasks?: number };
    }
  | {
      kind: 'probe';
      id: string;
      title: string;
      url: string;
      /** The x-release header the answer must carry, when known. */
      release?: string;
      timeoutMs: number;
      intervalMs: number;
    };

export interface Plan {
  action: 'deploy' | 'rollback';
  summary: string;
  steps: Step[];
  /** Run when a step fails after the switch: traffic back to the revision that served before. */
  rescueAfterSwitch: Step[];
  /** The revision that will serve (full resource name). */
  revision: string;
}

export class PlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanError';
  }
}

export const TRAFFIC_LATEST: keyof V2['TrafficTargetAllocationType'] =
  'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST';
export const TRAFFIC_REVISION: keyof V2['TrafficTargetAllocationType'] =
  'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION';
/** The container that serves (terraform/cloud_run.tf); the other one is the Redis sidecar. */
export const APP_CONTAINER = 'app';
/** Marks what a deploy changed, so the console and `gcloud` show who did it. */
export const CLIENT = 'e2m-deploy';
const REVISION_NAME_MAX = 63;

type Coordinates = Pick<CloudRunTarget, 'projectId' | 'region' | 'service' | 'migrateJob'>;
export const serviceName = (t: Coordinates) =>
  `projects/${t.projectId}/locations/${t.region}/services/${t.service}`;
export const jobName = (t: Coordinates) =>
  `projects/${t.projectId}/locations/${t.region}/jobs/${t.migrateJob}`;
export const revisionPath = (t: Coordinates, revision: string) => `${serviceName(t)}/revisions/${revision}`;
/** The last segment of a resource name (a revision's short name). */
export const shortName = (name?: string | null) => (name ?? '').slice((name ?? '').lastIndexOf('/') + 1);

// Fields the API sets; sending them back is at best ignored. Services and jobs share most.
const OUTPUT_ONLY = [
  'uid',
  'generation',
  'createTime',
  'updateTime',
  'deleteTime',
  'expireTime',
  'creator',
  'lastModifier',
  'observedGeneration',
  'terminalCondition',
  'conditions',
  'reconciling',
  'satisfiesPzs',
] as const;
const SERVICE_OUTPUT_ONLY = [
  ...OUTPUT_ONLY,
  'latestReadyRevision',
  'latestCreatedRevision',
  'trafficStatuses',
  'uri',
  'urls',
] as const;
const JOB_OUTPUT_ONLY = [...OUTPUT_ONLY, 'executionCount', 'latestCreatedExecution'] as const;

function writable<T extends object>(resource: T, outputOnly: readonly string[]): T {
  return Object.fromEntries(Object.entries(resource).filter(([k]) => !outputOnly.includes(k))) as T;
}

/** A registry host (with a dot), a path and a tag or digest: Cloud Run pulls it, so it must be pushed already. */
export function assertImageRef(image: string): void {
  if (
    !/^(?:[a-z0-9-]+\.)+[a-z0-9-]+(:\d+)?\/[a-z0-9._/-]+(:[A-Za-z0-9._-]+|@sha256:[a-f0-9]{64})$/.test(image)
  ) {
    throw new PlanError(
      `--image must be a pushed registry image with a tag or digest, e.g. us-central1-docker.pkg.dev/PROJECT/REPO/backend:1.2.3 (got "${image}")`,
    );
  }
}

/** `<service>-<release>-<hhmmss>`: unique per deploy, readable, at most 63 characters. */
export function revisionName(service: string, release: string, now: string): string {
  const time = now.slice(11, 19).replaceAll(':', '');
  const room = REVISION_NAME_MAX - service.length - time.length - 2;
  const slug = release
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, room)
    .replace(/^-+|-+$/g, '');
  return [service, slug, time].filter(Boolean).join('-');
}

// Read back, enums are names when the client decodes a response and numbers in the message an
// operation returns: compare with both (google.cloud.run.v2.TrafficTargetAllocationType).
const isLatest = (t: TrafficTarget) => t.type === TRAFFIC_LATEST || (t.type as unknown) === 1;
const isRevision = (t: TrafficTarget) => t.type === TRAFFIC_REVISION || (t.type as unknown) === 2;

/** The revision that receives the traffic now (short name), if any. */
export function servingRevision(service: Service): string | undefined {
  const traffic = service.traffic ?? [];
  const pinned = traffic.find((t) => isRevision(t) && t.percent === 100);
  if (pinned?.revision) return pinned.revision;
  if (traffic.some((t) => isLatest(t) && t.percent === 100) && service.latestReadyRevision)
    return shortName(service.latestReadyRevision);
  return undefined;
}

const seconds = (r: Revision) => Number(r.createTime?.seconds ?? 0) + Number(r.createTime?.nanos ?? 0) / 1e9;
/** The RELEASE the revision's containers were given ('' when none). */
export const releaseOf = (r: Revision) =>
  r.containers?.flatMap((c) => c.env ?? []).find((e) => e.name === 'RELEASE')?.value ?? '';
export const isReady = (r: Revision) =>
  (r.conditions ?? []).some((c) => c.type === 'Ready' && c.state === 'CONDITION_SUCCEEDED');

/** Where rollback goes: the named revision, or the newest ready one older than the serving one. */
export function rollbackRevision(service: Service, revisions: Revision[], named?: string): string {
  const serving = servingRevision(service);
  const ready = revisions.filter(isReady).sort((a, b) => seconds(b) - seconds(a));
  const known = ready.map((r) => shortName(r.name));
  if (named) {
    if (!known.includes(named))
      throw new PlanError(
        `revision ${named} is not a ready revision of this service (ready: ${known.join(', ') || 'none'})`,
      );
    if (named === serving) throw new PlanError(`revision ${named} is already serving`);
    return named;
  }
  const current = ready.find((r) => shortName(r.name) === serving);
  const older = ready.filter(
    (r) => shortName(r.name) !== serving && (!current || seconds(r) < seconds(current)),
  );
  if (older.length === 0)
    throw new PlanError(
      `no ready revision older than the serving one (${serving ?? 'none'}) to roll back to; name one: rollback REVISION`,
    );
  return shortName(older[0].name ?? '');
}

const pinTraffic = (revision: string): TrafficTarget[] => [
  { type: TRAFFIC_REVISION, revision, percent: 100 },
];

/** The app container with the new image and RELEASE; every other container (the sidecar) as it was. */
function withImage(containers: Container[], image: string, release: string, what: string): Container[] {
  const appIndex = containers.length === 1 ? 0 : containers.findIndex((c) => c.name === APP_CONTAINER);
  if (appIndex < 0) throw new PlanError(`${what} has no container named ${APP_CONTAINER}`);
  return containers.map((c, i) =>
    i === appIndex
      ? {
          ...c,
          image,
          env: [...(c.env ?? []).filter((e) => e.name !== 'RELEASE'), { name: 'RELEASE', value: release }],
        }
      : c,
  );
}

export interface DeployArgs {
  image: string;
  release: string;
  /** ISO time of the deploy (names the revision). */
  now: string;
}

/**
 * Deploy: point the migrate job at the new image and run it (the schema moves before any new
 * code serves, as on the VM), then a new revision of the service with all traffic on it, then
 * the service's /readyz must answer with the new release. A revision that never gets ready
 * receives no traffic: Cloud Run keeps the previous one serving.
 */
export function deployPlan(target: CloudRunTarget, service: Service, job: Job, args: DeployArgs): Plan {
  assertImageRef(args.image);
  if (!service.template) throw new PlanError(`${serviceName(target)} has no template`);
  const jobTemplate = job.template?.template;
  if (!job.template || !jobTemplate) throw new PlanError(`${jobName(target)} has no task template`);
  const revision = revisionName(target.service, args.release, args.now);
  const before = servingRevision(service);

  const newJob: Job = {
    ...writable(job, JOB_OUTPUT_ONLY),
    client: CLIENT,
    template: {
      ...job.template,
      template: {
        ...jobTemplate,
        containers: withImage(jobTemplate.containers ?? [], args.image, args.release, jobName(target)),
      },
    },
  };
  const newService: Service = {
    ...writable(service, SERVICE_OUTPUT_ONLY),
    client: CLIENT,
    template: {
      ...service.template,
      revision,
      containers: withImage(service.template.containers ?? [], args.image, args.release, serviceName(target)),
    },
    traffic: [{ type: TRAFFIC_LATEST, percent: 100 }],
  };
  // After the switch the etag has moved on: the rescue is sent without one.
  const { etag: _etag, ...rescueBase } = newService;

  return {
    action: 'deploy',
    summary: `${args.image} as revision ${revision} of ${target.service} (${target.region}); serving now: ${before ?? 'nothing'}`,
    revision: revisionPath(target, revision),
    steps: [
      {
        kind: 'call',
        id: 'job-image',
        title: `point the migrate job ${target.migrateJob} at the new image`,
        call: { client: 'jobs', method: 'updateJob', request: { job: newJob } },
      },
      {
        kind: 'call',
        id: 'migrate',
        title: `run the migrations (job ${target.migrateJob})`,
        call: { client: 'jobs', method: 'runJob', request: { name: jobName(target) } },
        expect: { succeededTasks: 1 },
      },
      {
        kind: 'call',
        id: 'service',
        title: `create revision ${revision} and send it all traffic once ready`,
        call: { client: 'services', method: 'updateService', request: { service: newService } },
        switches: true,
        expect: { latestReadyRevision: revisionPath(target, revision) },
      },
      {
        kind: 'probe',
        id: 'verify',
        title: `GET ${target.serviceUrl}/readyz answers 200 with release ${args.release}`,
        url: `${target.serviceUrl}/readyz`,
        release: args.release,
        timeoutMs: 60_000,
        intervalMs: 1_000,
      },
    ],
    rescueAfterSwitch: before
      ? [
          {
            kind: 'call',
            id: 'traffic-back',
            title: `send all traffic back to ${before}`,
            call: {
              client: 'services',
              method: 'updateService',
              request: { service: { ...rescueBase, traffic: pinTraffic(before) } },
            },
            expect: { servingRevision: before },
          },
        ]
      : [],
  };
}

/** Rollback: all traffic to an older ready revision; no new revision, no migration. */
export function rollbackPlan(
  target: CloudRunTarget,
  service: Service,
  revisions: Revision[],
  named?: string,
): Plan {
  const to = rollbackRevision(service, revisions, named);
  const from = servingRevision(service);
  const release = releaseOf(revisions.find((r) => shortName(r.name) === to) ?? {});
  return {
    action: 'rollback',
    summary: `traffic of ${target.service} from ${from ?? 'nothing'} to ${to}`,
    revision: revisionPath(target, to),
    steps: [
      {
        kind: 'call',
        id: 'traffic',
        title: `send all traffic to ${to}`,
        call: {
          client: 'services',
          method: 'updateService',
          request: {
            service: { ...writable(service, SERVICE_OUTPUT_ONLY), client: CLIENT, traffic: pinTraffic(to) },
          },
        },
        switches: true,
        expect: { servingRevision: to },
      },
      {
        kind: 'probe',
        id: 'verify',
        title: `GET ${target.serviceUrl}/readyz answers 200${release ? ` with release ${release}` : ''}`,
        url: `${target.serviceUrl}/readyz`,
        ...(release ? { release } : {}),
        timeoutMs: 60_000,
        intervalMs: 1_000,
      },
    ],
    rescueAfterSwitch: [],
  };
}

/** One line per step, for --dry-run: the method and the request as JSON. */
export function renderPlan(plan: Plan): string {
  const line = (s: Step, i: number, n: number) =>
    s.kind === 'call'
      ? `${i + 1}/${n} ${s.title}\n    ${s.call.client}.${s.call.method} ${JSON.stringify(s.call.request)}`
      : `${i + 1}/${n} ${s.title}`;
  const out = [`${plan.action}: ${plan.summary}`, ...plan.steps.map((s, i) => line(s, i, plan.steps.length))];
  if (plan.rescueAfterSwitch.length)
    out.push(
      'on a failure after the switch:',
      ...plan.rescueAfterSwitch.map((s, i) => line(s, i, plan.rescueAfterSwitch.length)),
    );
  return `${out.join('\n')}\n`;
}
