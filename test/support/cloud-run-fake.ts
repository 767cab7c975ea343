// A small fake of the Cloud Run Admin API v2 (REST), for tests: the endpoints the deploy calls
// (services get/patch, jobs get/patch/:run, revisions list, operations get), with the
// behaviour they rely on: a patch with a new template makes a revision, which gets ready (or,
// when told, fails and gets no traffic); traffic follows LATEST or a pinned revision; every
// change is a long-running operation, done on its first poll. It also serves the service itself
// at /app: /readyz answers 200 with the serving revision's RELEASE as x-release.
import { createServer, type IncomingMessage, type Server } from 'node:http';

// biome-ignore lint/suspicious/noExplicitAny: free-form JSON in a fake
type Json = Record<string, any>;

export interface Recorded {
  method: string;
  path: string;
  body?: Json;
}

export interface FakeOptions {
  project: string;
  region: string;
  service: string;
  job: string;
  /** Revisions that exist before the test, oldest first, each with its RELEASE; the last serves. */
  releases: string[];
}

// Enum numbers of google.cloud.run.v2.TrafficTargetAllocationType (the client sends numbers).
const LATEST = 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST';
const REVISION = 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION';
const trafficType = (t: unknown) =>
  t === 1 || t === LATEST ? LATEST : t === 2 || t === REVISION ? REVISION : t;

export class FakeCloudRun {
  readonly requests: Recorded[] = [];
  /** The next revision created fails its startup probe: the operation ends in an error. */
  failNextRevision = false;
  /** The next job run fails (a migration error). */
  failNextRun = false;
  /** /readyz answers this status instead of 200. */
  readyzStatus = 200;
  service!: Json;
  job!: Json;
  revisions: Json[] = [];
  private server?: Server;
  private operations = new Map<string, Json>();
  private clock = 1_700_000_000;
  private opCount = 0;
  port = 0;

  constructor(readonly o: FakeOptions) {}

  get base() {
    return `projects/${this.o.project}/locations/${this.o.region}`;
  }
  get serviceName() {
    return `${this.base}/services/${this.o.service}`;
  }
  get jobName() {
    return `${this.base}/jobs/${this.o.job}`;
  }
  get endpoint() {
    return `http://127.0.0.1:${this.port}`;
  }
  get serviceUrl() {
    return `${this.endpoint}/app`;
  }

  /** Serving revision's short name. */
  serving(): string | undefined {
    const pinned = (this.service.traffic as Json[]).find((t) => trafficType(t.type) === REVISION);
    if (pinned) return pinned.revision;
    return this.service.latestReadyRevision?.split('/').pop();
  }

  async start(): Promise<void> {
    const container = (release: string) => ({
      name: 'app',
      image: `us-central1-docker.pkg.dev/${this.o.project}/e2m/backend:${release}`,
      env: [
        { name: 'APP_ENV', value: 'prod' },
        { name: 'RELEASE', value: release },
      ],
      ports: [{ containerPort: 8080 }],
    });
    const sidecar = { name: 'redis', image: 'docker.io/library/redis:7.4-alpine' };
    for (const release of this.o.releases)
      this.addRevision(`${this.o.service}-${release}`, [container(release), sidecar]);
    const last = this.revisions.at(-1) as Json;
    this.service = {
      name: this.serviceName,
      uid: 'svc-uid',
      generation: '3',
      etag: '"etag-3"',
      ingress: 'INGRESS_TRAFFIC_ALL',
      template: {
        revision: last.name.split('/').pop(),
        serviceAccount: `e2m-run@${this.o.project}.iam.gserviceaccount.com`,
        containers: last.containers,
        scaling: { minInstanceCount: 0, maxInstanceCount: 1 },
      },
      traffic: [{ type: LATEST, percent: 100 }],
      latestReadyRevision: last.name,
      latestCreatedRevision: last.name,
      uri: this.serviceUrl,
    };
    this.job = {
      name: this.jobName,
      uid: 'job-uid',
      etag: '"job-etag-1"',
      template: {
        taskCount: 1,
        template: {
          containers: [{ ...container(this.o.releases.at(-1) as string), ports: [], args: ['migrate'] }],
          maxRetries: 0,
        },
      },
      executionCount: 1,
    };
    this.server = createServer((req, res) => {
      void this.handle(req).then(
        ({ status, body, headers }) => {
          res.writeHead(status, { 'content-type': 'application/json', ...headers });
          res.end(JSON.stringify(body));
        },
        (e: Error) => {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { code: 500, message: e.message, status: 'INTERNAL' } }));
        },
      );
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server?.close(() => r()));
  }

  private addRevision(short: string, containers: Json[], ready = true) {
    this.clock += 60;
    const rev = {
      name: `${this.serviceName}/revisions/${short}`,
      createTime: new Date(this.clock * 1000).toISOString(),
      containers,
      conditions: [{ type: 'Ready', state: ready ? 'CONDITION_SUCCEEDED' : 'CONDITION_FAILED' }],
    };
    this.revisions.push(rev);
    return rev;
  }

  private operation(response: Json | undefined, type: string, error?: string) {
    const name = `${this.base}/operations/op-${++this.opCount}`;
    this.operations.set(
      name,
      error
        ? { name, done: true, error: { code: 9, message: error } }
        : {
            name,
            done: true,
            response: { '@type': `type.googleapis.com/google.cloud.run.v2.${type}`, ...response },
          },
    );
    return { name, done: false };
  }

  private async handle(
    req: IncomingMessage,
  ): Promise<{ status: number; body: Json; headers?: Record<string, string> }> {
    const url = new URL(req.url ?? '/', 'http://fake');
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = raw ? (JSON.parse(raw) as Json) : undefined;
    const path = url.pathname;
    if (path.startsWith('/app/')) {
      if (path === '/app/readyz') {
        const rev = this.revisions.find((r) => r.name.endsWith(`/${this.serving()}`));
        const release = rev?.containers[0].env.find((e: Json) => e.name === 'RELEASE')?.value ?? '';
        return { status: this.readyzStatus, body: { status: 'ok' }, headers: { 'x-release': release } };
      }
      return { status: 404, body: {} };
    }
    this.requests.push({ method: req.method ?? '', path, ...(body ? { body } : {}) });
    const notFound = {
      status: 404,
      body: { error: { code: 404, message: `${path} not found`, status: 'NOT_FOUND' } },
    };
    if (path === `/v2/${this.serviceName}`) {
      if (req.method === 'GET') return { status: 200, body: this.service };
      if (req.method === 'PATCH' && body) return { status: 200, body: this.patchService(body) };
    }
    if (path === `/v2/${this.serviceName}/revisions` && req.method === 'GET')
      return { status: 200, body: { revisions: [...this.revisions].reverse() } };
    if (path === `/v2/${this.jobName}`) {
      if (req.method === 'GET') return { status: 200, body: this.job };
      if (req.method === 'PATCH' && body) {
        if (body.etag && body.etag !== this.job.etag)
          return { status: 409, body: { error: { code: 409, message: 'etag mismatch', status: 'ABORTED' } } };
        this.job = { ...this.job, ...body, etag: `"job-etag-${this.opCount + 2}"` };
        return { status: 200, body: this.operation(this.job, 'Job') };
      }
    }
    if (path === `/v2/${this.jobName}:run` && req.method === 'POST') {
      const failed = this.failNextRun;
      this.failNextRun = false;
      const execution = {
        name: `${this.jobName}/executions/${this.o.job}-${this.opCount}`,
        taskCount: 1,
        succeededCount: failed ? 0 : 1,
        failedCount: failed ? 1 : 0,
      };
      return {
        status: 200,
        body: this.operation(
          execution,
          'Execution',
          failed ? 'Task failed: migrate exited with code 1' : undefined,
        ),
      };
    }
    if (path.startsWith(`/v2/${this.base}/operations/`) && req.method === 'GET') {
      const op = this.operations.get(path.slice(4));
      return op ? { status: 200, body: op } : notFound;
    }
    return notFound;
  }

  private patchService(body: Json) {
    if (body.etag && body.etag !== this.service.etag)
      throw new Error(`etag mismatch: ${body.etag} is not ${this.service.etag}`);
    const next: Json = {
      ...this.service,
      ...body,
      traffic: (body.traffic as Json[]).map((t) => ({ ...t, type: trafficType(t.type) })),
    };
    const short = body.template?.revision as string | undefined;
    const exists = this.revisions.some((r) => r.name.endsWith(`/${short}`));
    let error: string | undefined;
    if (short && !exists) {
      const ready = !this.failNextRevision;
      this.failNextRevision = false;
      const rev = this.addRevision(short, body.template.containers, ready);
      next.latestCreatedRevision = rev.name;
      if (ready) next.latestReadyRevision = rev.name;
      else
        error = `Revision '${short}' is not ready and cannot serve traffic. The user-provided container failed the configured startup probe checks.`;
    }
    for (const t of next.traffic as Json[]) {
      if (t.type === REVISION && !this.revisions.some((r) => r.name.endsWith(`/${t.revision}`)))
        throw new Error(`revision ${t.revision} does not exist`);
    }
    next.etag = `"etag-${Number(this.service.generation) + 1}"`;
    next.generation = String(Number(this.service.generation) + 1);
    next.uri = this.serviceUrl;
    if (error) {
      // The failed revision gets no traffic: only its record changes.
      this.service = { ...this.service, latestCreatedRevision: next.latestCreatedRevision, etag: next.etag };
      return this.operation(undefined, 'Service', error);
    }
    const serving =
      (next.traffic as Json[]).find((t) => t.type === REVISION)?.revision ??
      next.latestReadyRevision.split('/').pop();
    next.trafficStatuses = [{ type: next.traffic[0].type, revision: serving, percent: 100 }];
    this.service = next;
    return this.operation(this.service, 'Service');
  }
}
