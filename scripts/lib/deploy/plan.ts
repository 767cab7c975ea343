// Pure: (view of the VM, arguments) -> the ordered steps of a deploy, a rollback or a cleanup,
// each with the exact argv and the host it runs on, plus the rescue steps for a failure before
// and after the proxy switched. The executor runs them; a dry run prints them.
import * as cmd from './commands.ts';
import type { StepCheck } from './contract.ts';
import {
  type Colour,
  containerName,
  DEFAULT_WARM_S,
  DRAIN_TIMEOUT_S,
  layout,
  SWITCH_TIMEOUT_MS,
} from './layout.ts';
import {
  type Destructive,
  describeDestructive,
  destructiveStatements,
  type MigrationPlan,
} from './migrations.ts';
import { checkRelease } from './release.ts';
import {
  containerOf,
  type ImageInfo,
  nextColour,
  type ReleaseRecord,
  retention,
  StateError,
  type VmView,
  warmContainer,
} from './state.ts';

export type Host = 'local' | 'vm';

export type Step =
  | {
      kind: 'run';
      id: string;
      title: string;
      host: Host;
      argv: string[];
      switches?: boolean;
      /** A failure is reported but neither stops the plan nor triggers a rescue. */
      optional?: boolean;
      /** Judge the result against the app contract (contract.ts) instead of by exit code alone. */
      check?: StepCheck;
      /** On failure its last line on stderr is the whole error (a wait that says what it saw). */
      explains?: boolean;
    }
  | { kind: 'upload'; id: string; title: string; from: string; to: string }
  /** docker save of `image` into `to`, less the layers whose chain the VM has (ship.ts). */
  | { kind: 'save'; id: string; title: string; image: string; to: string; vmChains: string[] }
  | {
      kind: 'wait';
      id: string;
      title: string;
      host: Host;
      argv: string[];
      /** Done when the command exits 0 and, if set, its trimmed stdout equals this. */
      expect?: string;
      /** Done when the contract judge (contract.ts) says ready; it may also fail at once. */
      check?: StepCheck;
      timeoutMs: number;
      intervalMs: number;
    };

export interface Plan {
  action: 'deploy' | 'rollback' | 'cleanup' | 'lock' | 'unlock' | 'restart' | 'kill-switch';
  summary: string;
  steps: Step[];
  /** Run when a step fails before the proxy switched: the old colour never stopped serving. */
  rescueBeforeSwitch: Step[];
  /** Run when a step fails after the switch: route back to the old colour first. */
  rescueAfterSwitch: Step[];
  /** The release record to append on success (the executor adds duration). */
  record?: ReleaseRecord;
}

export interface Actor {
  who: string;
  host: string;
  pid: number;
  now: string;
}

export const run = (
  id: string,
  title: string,
  host: Host,
  argv: string[],
  extra: { switches?: boolean; optional?: boolean; check?: StepCheck; explains?: boolean } = {},
): Step => ({
  kind: 'run',
  id,
  title,
  host,
  argv,
  ...extra,
});

/** One line of the audit log: when, who, from where, what. */
export const auditLine = (actor: Actor, event: Record<string, unknown>) =>
  JSON.stringify({ time: actor.now, who: actor.who, from: actor.host, ...event });

export const audit = (actor: Actor, event: Record<string, unknown>) =>
  run('audit', 'append to the audit log', 'vm', cmd.appendLine(layout.auditFile, auditLine(actor, event)));

/** What identifies one command's hold on the lock: its heartbeat and release touch only that. */
export const leaseToken = (actor: Actor) => `${actor.host}:${actor.pid}:${actor.now}`;

/** The lock's holder file: who, from where, for what, since when, and the token. */
export const holderJson = (actor: Actor, command: string) =>
  JSON.stringify({
    who: actor.who,
    host: actor.host,
    pid: actor.pid,
    command,
    time: actor.now,
    token: leaseToken(actor),
  });

/** The lock as a plan step: a manual `lock` has no lease (held until `unlock`); a short command
 * with no heartbeat of its own (incident restart) takes a lease long enough for it. */
export const lock = (actor: Actor, command: string, leaseS = 0) =>
  run(
    'lock',
    `take the deploy lock (${layout.lockDir})`,
    'vm',
    cmd.takeLock(holderJson(actor, command), leaseS),
  );

/** Release this command's lease (the CLI took it before reading the VM: cli.ts withLease). */
export const unlock = (actor: Actor) =>
  run('unlock', 'release the deploy lock', 'vm', cmd.releaseLock(leaseToken(actor)));

/** Take the warm colour off the parker's schedule before a command uses it (none: no step). */
const unscheduleWarm = (view: VmView): Step[] =>
  view.warm
    ? [
        run(
          'unwarm',
          `take ${containerName(view.warm.colour)} off the parking schedule (${layout.warmFile})`,
          'vm',
          cmd.unscheduleWarm(),
        ),
      ]
    : [];

/**
 * Start-to-serving for one colour: wait ready, switch the proxy, verify, then keep the old colour
 * warm for `warmForS` (0: drain and stop it at once), record.
 */
function activate(
  view: VmView,
  p: {
    colour: Colour;
    release: string;
    image: string;
    domain: string;
    record: ReleaseRecord;
    actor: Actor;
    event: string;
    /** Images the retention policy removes once the new colour serves. */
    prune?: ImageInfo[];
    /** Seconds the old colour stays warm after the switch; 0 drains and stops it at once. */
    warmForS: number;
    /** The colour is already running and ready (warm): one /readyz probe, no contract wait. */
    alreadyWarm?: boolean;
  },
) {
  const old = view.active?.colour;
  const prune = p.prune ?? [];
  const ready: Step = p.alreadyWarm
    ? {
        kind: 'wait',
        id: 'ready',
        title: `check that the warm ${containerName(p.colour)} answers /readyz (it runs: nothing to start)`,
        host: 'vm',
        argv: cmd.readyProbe(p.colour),
        timeoutMs: 5_000,
        intervalMs: 100,
      }
    : {
        kind: 'wait',
        id: 'ready',
        title: `wait for ${containerName(p.colour)} /healthz and /readyz with X-Release ${p.release} (60 s at most)`,
        host: 'vm',
        argv: cmd.contractProbe(p.colour),
        check: { kind: 'ready', release: p.release, colour: p.colour },
        timeoutMs: 60_000,
        intervalMs: 250,
      };
  const steps: Step[] = [
    ready,
    run('switch', `point the proxy at ${p.colour} (no reload)`, 'vm', cmd.switchProxy(p.colour), {
      switches: true,
    }),
    // Recorded at the switch, not at the end: a session cut from here on leaves state.json naming
    // what the proxy serves (and readLiveView repairs any other mismatch).
    run(
      'state',
      'record the active colour',
      'vm',
      cmd.writeState(
        JSON.stringify({ colour: p.colour, release: p.release, image: p.image, since: p.actor.now }),
      ),
    ),
    // The proxy moves when it next resolves the name, seconds later; until this passes the old
    // colour keeps serving, and it is stopped only after.
    proxyServes(p.domain, p.release, 'verify', `wait until the proxy answers 200 from ${p.release}`),
  ];
  // The proxy sends the old colour nothing new from here on; its requests in flight finish
  // either way. Warm, it keeps running (and ready) for a rollback that is only the switch, and
  // the VM's parker drains and stops it when the window ends; with no window it stops now.
  if (old && old !== p.colour && view.active)
    steps.push(
      p.warmForS > 0
        ? run(
            'warm',
            `keep ${containerName(old)} (${view.active.release}) warm for ${p.warmForS} s, out of rotation; then e2m-park-warm drains and stops it`,
            'vm',
            cmd.keepWarm(old, view.active.release, p.warmForS),
          )
        : run(
            'drain',
            `drain and stop ${containerName(old)} (kept for rollback)`,
            'vm',
            cmd.stopColour(old),
            {
              check: { kind: 'drain', container: containerName(old), timeoutS: DRAIN_TIMEOUT_S },
            },
          ),
    );
  steps.push(
    run(
      'record',
      'append to the release history',
      'vm',
      cmd.appendLine(layout.releasesFile, JSON.stringify(p.record)),
    ),
    ...prune.map((img) =>
      run('prune', `retention: remove ${img.ref}`, 'vm', cmd.removeImage(img.ref), { optional: true }),
    ),
    audit(p.actor, {
      event: p.event,
      release: p.release,
      colour: p.colour,
      outcome: 'ok',
      ...(prune.length ? { pruned: prune.map((i) => i.ref) } : {}),
    }),
    unlock(p.actor),
  );
  // After the switch, the way back: the old colour running and ready again, then the proxy on it
  // (or, on a first deploy, the maintenance page).
  // Each waits until the proxy has moved back, so the rescue's guard (never remove the colour
  // the proxy serves) sees the old colour serving when it removes the new one.
  const back: Step[] = old
    ? [
        run('restart-old', `make sure ${containerName(old)} runs`, 'vm', cmd.startContainer(old)),
        {
          kind: 'wait',
          id: 'ready-old',
          title: `wait for ${containerName(old)} /readyz`,
          host: 'vm',
          argv: cmd.readyProbe(old),
          timeoutMs: 30_000,
          intervalMs: 250,
        },
        run('switch-back', `point the proxy back at ${old}`, 'vm', cmd.switchProxy(old)),
        // It serves again: whatever this command scheduled for it no longer applies.
        run('unwarm-back', `take ${containerName(old)} off the parking schedule`, 'vm', cmd.unscheduleWarm()),
        run(
          'state-back',
          'record the old colour as active again',
          'vm',
          cmd.writeState(JSON.stringify(view.active)),
        ),
        proxyServes(
          p.domain,
          view.active?.release ?? '',
          'verify-back',
          `wait until the proxy answers 200 from ${view.active?.release} again`,
        ),
      ]
    : [
        run('switch-back', 'put the maintenance page back', 'vm', cmd.switchProxy('maintenance')),
        run('state-back', 'record that nothing serves', 'vm', cmd.removeState()),
        proxyServes(
          p.domain,
          undefined,
          'verify-back',
          'wait until the proxy answers 503 from the maintenance page',
        ),
      ];
  return { steps, back };
}

/**
 * Bounded wait until the proxy answers from `release`, or with the maintenance page's 503. It
 * polls on the VM (commands.ts untilOutput), one command in all: the switch takes effect at one of
 * Caddy's lookups (100 ms apart at most), and is seen within 50 ms of it, whatever the round trip
 * to the VM.
 */
const proxyServes = (domain: string, release: string | undefined, id: string, title: string): Step =>
  run(
    id,
    `${title} (${SWITCH_TIMEOUT_MS / 1000} s at most)`,
    'vm',
    cmd.untilOutput(
      cmd.probeThroughProxy(domain),
      release === undefined ? '503' : `200 ${release}`,
      SWITCH_TIMEOUT_MS / 1000,
      0.05,
    ),
    { explains: true },
  );

function failure(p: {
  colour: Colour;
  record: ReleaseRecord;
  actor: Actor;
  event: string;
  domain: string;
}): Step[] {
  return [
    // Only the container of this release: failing before its start, the idle colour still holds
    // the warm (or parked) previous release, which stays.
    run(
      'stop-new',
      `stop and remove ${containerName(p.colour)} if it runs ${p.record.id}`,
      'vm',
      cmd.removeContainer(p.colour, p.domain, p.record.id),
    ),
    run(
      'record-failure',
      'append the failure to the release history',
      'vm',
      cmd.appendLine(layout.releasesFile, JSON.stringify({ ...p.record, outcome: 'failed' })),
    ),
    audit(p.actor, { event: p.event, release: p.record.id, colour: p.colour, outcome: 'failed' }),
    unlock(p.actor),
  ];
}

export interface DeployArgs {
  image: string;
  imageId: string;
  release: string;
  gitSha: string;
  domain: string;
  /** Local path of the compressed image, and where it goes on the VM. */
  localArchive: string;
  actor: Actor;
  /** Retention after the deploy: how many recent releases' images to keep (default 5). */
  keep?: number;
  /** Run a destructive migration (after a dump) instead of refusing it. */
  allowDestructive?: boolean;
  /** Seconds the previous colour stays warm (default DEFAULT_WARM_S; 0 stops it at once). */
  warmForS?: number;
  /** The new colour's CPU cap (the inventory's `e2m_app_cpus`; `limits.cpus` when absent). */
  appCpus?: number;
}

/** Images only arrive with deploys, so retention runs at the end of each successful one. */
export const DEFAULT_KEEP = 5;

/** Pure: the VM as it will be once this deploy succeeded, for the retention decision. */
function viewAfterDeploy(view: VmView, colour: Colour, a: DeployArgs, record: ReleaseRecord): VmView {
  const tag = a.image.slice(a.image.lastIndexOf(':') + 1);
  const hasImage = view.images.some((i) => i.ref === a.image);
  return {
    ...view,
    releases: [...view.releases, record],
    containers: [
      ...view.containers.filter((c) => c.colour !== colour),
      { name: containerName(colour), colour, release: a.release, running: true, image: a.image },
    ],
    images: hasImage ? view.images : [...view.images, { ref: a.image, tag, id: a.imageId, sizeBytes: 0 }],
  };
}

export function deployPlan(view: VmView, a: DeployArgs): Plan {
  checkRelease(a.release, `image ${a.image}`);
  if (view.active) checkRelease(view.active.release, `${layout.stateFile} (the serving release)`);
  if (view.active?.release === a.release && containerOf(view, view.active.colour)?.running) {
    throw new StateError(
      `release ${a.release} is already serving on ${view.active.colour}; nothing to deploy`,
    );
  }
  const colour = nextColour(view);
  const remoteArchive = `${layout.imagesDir}/${a.release}.tar.zst`;
  const onVm = view.images.find((i) => i.id === a.imageId);
  const record: ReleaseRecord = {
    id: a.release,
    image: a.image,
    imageId: a.imageId,
    gitSha: a.gitSha,
    time: a.actor.now,
    who: a.actor.who,
    outcome: 'deployed',
    colour,
  };
  const steps: Step[] = [];
  if (!onVm) {
    steps.push(
      {
        kind: 'save',
        id: 'save',
        title: `docker save ${a.image} | zstd, less the layers the VM has`,
        image: a.image,
        to: a.localArchive,
        vmChains: view.layers ?? [],
      },
      run('mkdir', `make ${layout.imagesDir}`, 'vm', cmd.mkdirImages()),
      {
        kind: 'upload',
        id: 'upload',
        title: `upload to ${remoteArchive}`,
        from: a.localArchive,
        to: remoteArchive,
      },
      run('load', 'zstd -d | docker load', 'vm', cmd.loadImage(remoteArchive)),
    );
  } else if (onVm.ref !== a.image) {
    steps.push(
      run('tag', `the VM has ${a.imageId.slice(7, 19)}; tag it ${a.image}`, 'vm', [
        'docker',
        'tag',
        a.imageId,
        a.image,
      ]),
    );
  }
  steps.push(
    run(
      'migrations',
      `list the pending migrations (IMAGE migrate --dry-run); a destructive one is refused${a.allowDestructive ? ' unless allowed (it is: --allow-destructive), and then a dump runs first' : ' (--allow-destructive runs it after a dump)'}`,
      'vm',
      cmd.migrationPlan(a.image, a.release),
      { check: { kind: 'migrations', allowDestructive: a.allowDestructive === true } },
    ),
    run(
      'schema',
      `record what ${a.release} migrates (${layout.schemaDir}/${a.release}.json, read by rollback)`,
      'vm',
      cmd.recordSchema(a.release),
    ),
    run('migrate', 'run database migrations with the new image', 'vm', cmd.migrate(a.image), {
      check: { kind: 'migrate' },
    }),
  );
  steps.push(...unscheduleWarm(view));
  if (containerOf(view, colour))
    steps.push(
      run(
        'clear',
        `remove the old ${containerName(colour)} (two releases back)`,
        'vm',
        cmd.removeContainer(colour, a.domain),
      ),
    );
  steps.push(
    run(
      'start',
      `start ${containerName(colour)} with ${a.release}`,
      'vm',
      cmd.runColour({ colour, image: a.image, release: a.release, cpus: a.appCpus }),
    ),
  );
  const act = activate(view, {
    colour,
    release: a.release,
    image: a.image,
    domain: a.domain,
    record,
    actor: a.actor,
    event: 'deploy',
    prune: retention(viewAfterDeploy(view, colour, a, record), a.keep ?? DEFAULT_KEEP).remove,
    warmForS: a.warmForS ?? DEFAULT_WARM_S,
  });
  const p = { colour, record, actor: a.actor, event: 'deploy', domain: a.domain };
  return {
    action: 'deploy',
    summary: `deploy ${a.release} to ${colour}${view.active ? ` (serving now: ${view.active.release} on ${view.active.colour})` : ' (first deploy)'}${onVm ? '; image already on the VM' : ''}`,
    steps: [...steps, ...act.steps],
    rescueBeforeSwitch: failure(p),
    rescueAfterSwitch: [...act.back, ...failure(p)],
    record,
  };
}

/**
 * A rollback runs old code on today's schema. Additive migrations since the target leave that
 * working; a destructive one (recorded by its deploy in schema/<release>.json) does not, so it
 * is refused with the reason unless forced.
 */
export function schemaConflicts(
  view: VmView,
  target: ReleaseRecord,
  schemas: Record<string, MigrationPlan>,
): Destructive[] {
  const from = view.releases.findLastIndex((r) => r.id === target.id && r.outcome !== 'failed');
  const since = new Set(view.releases.slice(from + 1).map((r) => r.id));
  since.delete(target.id);
  return [...since].flatMap((id) => (schemas[id] ? destructiveStatements(schemas[id]) : []));
}

export function rollbackPlan(
  view: VmView,
  target: ReleaseRecord,
  domain: string,
  actor: Actor,
  schema: { schemas: Record<string, MigrationPlan>; force: boolean } = { schemas: {}, force: false },
  o: { warmForS?: number; appCpus?: number } = {},
): Plan {
  checkRelease(target.id, `${layout.releasesFile} (the rollback target)`);
  const conflicts = schemaConflicts(view, target, schema.schemas);
  if (conflicts.length && !schema.force)
    throw new StateError(
      `rolling back to ${target.id} would run its code on a schema changed destructively since: ${conflicts.map(describeDestructive).join('; ')}. Roll forward with a fix, or --force if ${target.id} works with that schema`,
    );
  if (view.active) checkRelease(view.active.release, `${layout.stateFile} (the serving release)`);
  const colour = nextColour(view);
  const parked = containerOf(view, colour);
  const image = view.images.find((i) => i.ref === target.image || i.id === target.imageId);
  const steps: Step[] = unscheduleWarm(view);
  // Warm (running, ready, that release): the rollback is the switch and its verify.
  const warm = warmContainer(view)?.colour === colour && parked?.release === target.id;
  if (warm) {
    // Nothing to start.
  } else if (parked && parked.release === target.id) {
    steps.push(
      run(
        'start',
        `start the parked ${containerName(colour)} (${target.id})`,
        'vm',
        cmd.startContainer(colour),
      ),
    );
  } else if (image) {
    if (parked)
      steps.push(
        run(
          'clear',
          `remove ${containerName(colour)} (${parked.release})`,
          'vm',
          cmd.removeContainer(colour, domain),
        ),
      );
    steps.push(
      run(
        'start',
        `start ${containerName(colour)} with ${target.id}`,
        'vm',
        cmd.runColour({ colour, image: image.ref, release: target.id, cpus: o.appCpus }),
      ),
    );
  } else {
    throw new StateError(
      `the image of ${target.id} (${target.image}) is no longer on the VM; deploy it again with --image`,
    );
  }
  const record: ReleaseRecord = {
    ...target,
    time: actor.now,
    who: actor.who,
    outcome: 'rolled-back',
    colour,
    failedStep: undefined,
    error: undefined,
  };
  const act = activate(view, {
    colour,
    release: target.id,
    image: image?.ref ?? target.image,
    domain,
    record,
    actor,
    event: 'rollback',
    warmForS: o.warmForS ?? DEFAULT_WARM_S,
    alreadyWarm: warm,
  });
  // A failed rollback must not delete the parked container: it is the rollback target.
  const p = { colour, record, actor, event: 'rollback', domain };
  const keepParked = (steps: Step[]) =>
    steps.map((s) =>
      s.id === 'stop-new'
        ? run('stop-new', `stop ${containerName(colour)}`, 'vm', cmd.stopContainer(colour, domain))
        : s,
    );
  return {
    action: 'rollback',
    summary: `roll back to ${target.id} on ${colour}${warm ? ' (warm: just the switch)' : ''}${view.active ? ` (serving now: ${view.active.release} on ${view.active.colour})` : ''}`,
    steps: [...steps, ...act.steps],
    rescueBeforeSwitch: keepParked(failure(p)),
    rescueAfterSwitch: keepParked([...act.back, ...failure(p)]),
    record,
  };
}

export function cleanupPlan(
  view: VmView,
  keep: number,
  actor: Actor,
): Plan & { retention: ReturnType<typeof retention> } {
  const r = retention(view, keep);
  const steps: Step[] = [
    ...r.remove.map((img) => run('rmi', `remove ${img.ref}`, 'vm', cmd.removeImage(img.ref))),
    audit(actor, { event: 'cleanup', removed: r.remove.map((i) => i.ref), freedBytes: r.freedBytes }),
    unlock(actor),
  ];
  const rescue = [unlock(actor)];
  return {
    action: 'cleanup',
    summary: `keep ${r.keep.length} image(s), remove ${r.remove.length}`,
    steps,
    rescueBeforeSwitch: rescue,
    rescueAfterSwitch: rescue,
    retention: r,
  };
}

export function lockPlan(actor: Actor): Plan {
  const steps = [lock(actor, 'manual lock'), audit(actor, { event: 'lock' })];
  return {
    action: 'lock',
    summary: 'hold the deploy lock',
    steps,
    rescueBeforeSwitch: [],
    rescueAfterSwitch: [],
  };
}

export function unlockPlan(view: VmView, actor: Actor, force: boolean): Plan {
  if (!view.lock) throw new StateError('not locked');
  const mine = view.lock.who === actor.who && view.lock.host === actor.host;
  if (!mine && !force) {
    throw new StateError(
      `the lock is held by ${view.lock.who}@${view.lock.host} for "${view.lock.command}" since ${view.lock.time}; use --force to break it`,
    );
  }
  const steps = [
    run('unlock', 'release the deploy lock', 'vm', cmd.releaseLock()),
    audit(actor, { event: 'unlock', forced: !mine, holder: view.lock }),
  ];
  return {
    action: 'unlock',
    summary: `release the lock held by ${view.lock.who}@${view.lock.host}`,
    steps,
    rescueBeforeSwitch: [],
    rescueAfterSwitch: [],
  };
}
