// The Cloud Run deploy's I/O: the official client (@google-cloud/run) over its REST transport,
// reading the service, job and revisions, sending a plan's requests, waiting for each
// long-running operation, checking what it must show, and probing the service over HTTP. On a
// failure after the switch the rescue sends the traffic back to the revision that served before.

import { JobsClient, RevisionsClient, ServicesClient } from '@google-cloud/run';
import { googleAuthLibrary } from 'google-gax';
import {
  type Clock,
  clockOf,
  type DeployOutcome,
  describeError,
  type ExecOptions,
  failureOf,
  type Handlers,
  type StepEvent as PlanStepEvent,
  poll,
  runPlan,
} from '../plan/run.ts';
import {
  type Job,
  jobName,
  type Plan,
  type Revision,
  type Service,
  type Step,
  serviceName,
  servingRevision,
} from './plan.ts';
import type { CloudRunTarget } from './target.ts';

export interface Clients {
  services: ServicesClient;
  jobs: JobsClient;
  revisions: RevisionsClient;
  close(): Promise<void>;
}

/**
 * The REST transport (`fallback: true`) always, so the code path tested against the local fake
 * is the one that talks to Google. A target with an apiEndpoint (a fake, an emulator) gets plain
 * http when it says so, and no credentials: nothing looks for a key or a metadata server.
 */
export function createClients(target: Pick<CloudRunTarget, 'apiEndpoint'>): Clients {
  let options: ConstructorParameters<typeof ServicesClient>[0] = { fallback: true };
  if (target.apiEndpoint) {
    const url = new URL(target.apiEndpoint);
    options = {
      fallback: true,
      apiEndpoint: url.hostname,
      port: Number(url.port || (url.protocol === 'http:' ? 80 : 443)),
      // Read by google-gax's REST stub when it builds each request URL.
      protocol: url.protocol.slice(0, -1),
      authClient: new googleAuthLibrary.PassThroughClient(),
    } as typeof options;
  }
  const services = new ServicesClient(options);
  const jobs = new JobsClient(options);
  const revisions = new RevisionsClient(options);
  return {
    services,
    jobs,
    revisions,
    close: async () => {
      await Promise.all([services.close(), jobs.close(), revisions.close()]);
    },
  };
}

export interface View {
  service: Service;
  job: Job;
  revisions: Revision[];
}

export async function readView(clients: Clients, target: CloudRunTarget): Promise<View> {
  const [service] = await clients.services.getService({ name: serviceName(target) });
  const [job] = await clients.jobs.getJob({ name: jobName(target) });
  const [revisions] = await clients.revisions.listRevisions(
    { parent: serviceName(target), pageSize: 50 },
    { autoPaginate: false },
  );
  return { service, job, revisions };
}

export type StepEvent = PlanStepEvent<Step>;

export interface Outcome extends DeployOutcome {
  /** The revision serving at the end, as the last operation reported it. */
  serving?: string;
}

/** Sends one request and waits for its long-running operation; returns what it produced. */
async function send(
  step: Extract<Step, { kind: 'call' }>,
  clients: Clients,
): Promise<Service | Job | object> {
  const { call } = step;
  const [operation] =
    call.method === 'updateService'
      ? await clients.services.updateService(call.request)
      : call.method === 'updateJob'
        ? await clients.jobs.updateJob(call.request)
        : await clients.jobs.runJob(call.request);
  const [result] = await operation.promise();
  return result as object;
}

function check(step: Extract<Step, { kind: 'call' }>, result: Record<string, unknown>): string | undefined {
  const want = step.expect;
  if (!want) return undefined;
  if (want.latestReadyRevision !== undefined && result.latestReadyRevision !== want.latestReadyRevision)
    return `latest ready revision is ${String(result.latestReadyRevision) || 'none'}, want ${want.latestReadyRevision}`;
  if (want.servingRevision !== undefined) {
    const serving = servingRevision(result as Service);
    if (serving !== want.servingRevision)
      return `serving ${serving ?? 'nothing'}, want ${want.servingRevision}`;
  }
  if (want.succeededTasks !== undefined && Number(result.succeededCount ?? 0) < want.succeededTasks)
    return `${Number(result.succeededCount ?? 0)} task(s) succeeded, ${Number(result.failedCount ?? 0)} failed`;
  return undefined;
}

function probe(step: Extract<Step, { kind: 'probe' }>, clock: Clock): Promise<void> {
  return poll(
    step,
    clock,
    async () => {
      try {
        const res = await fetch(step.url, { signal: AbortSignal.timeout(10_000) });
        const release = res.headers.get('x-release');
        if (res.status === 200 && (step.release === undefined || release === step.release)) return undefined;
        return `HTTP ${res.status}, x-release ${release ?? 'absent'}`;
      } catch (e) {
        return describeError(e);
      }
    },
    (last) => new Error(`not ready after ${step.timeoutMs / 1000} s: ${last}`),
  );
}

/**
 * Runs the plan. A failing step stops it; after the switch the rescue then runs to its end.
 * Never throws for a step failure: the outcome says what failed and why.
 */
export async function execute(
  plan: Plan,
  clients: Clients,
  options: ExecOptions<Step> = {},
): Promise<Outcome> {
  const clock = clockOf(options);
  const state: { switched: boolean; serving?: string } = { switched: false };
  const handlers: Handlers<Step> = {
    probe: (step) => probe(step, clock),
    call: async (step) => {
      const result = (await send(step, clients)) as Record<string, unknown>;
      if (step.switches) state.switched = true;
      const problem = check(step, result);
      if ('traffic' in result) state.serving = servingRevision(result as Service);
      if (problem) throw new Error(problem);
    },
  };
  const r = await runPlan<Step>(
    { steps: plan.steps, onFailure: () => (state.switched ? plan.rescueAfterSwitch : []) },
    handlers,
    { onEvent: options.onEvent, now: clock.now },
  );
  return {
    ok: r.ok,
    ms: r.ms,
    switched: state.switched,
    rescueErrors: r.rescueErrors,
    stepTimes: { ...r.stepTimes, ...r.rescueTimes },
    ...(state.serving === undefined ? {} : { serving: state.serving }),
    ...failureOf(r),
  };
}
