// `npm run deploy`'s commands, each a function returning a Result: read the VM (state.ts), build
// the plan (plan.ts), run it (execute.ts). A target whose platform is cloud_run goes to
// cloudrun/cli.ts instead. The command line and its --help are in spec.ts.
import { join, resolve } from 'node:path';
import { $, chalk, fs, tmpdir } from 'zx';
import { currentActor } from '../cli/actor.ts';
import { count, type Invocation, type Values } from '../cli/args.ts';
import { CliError, type Context, type Result } from '../cli/context.ts';
import type { Cli } from '../cli/run.ts';
import { connectVm } from '../cli/ssh.ts';
import { readResolvedTarget } from '../cli/target.ts';
import { appDirProblem } from '../image/plan.ts';
import { outcomeLines } from '../plan/progress.ts';
import { LocalRunner, type Runner } from '../runner.ts';
import type { Target } from '../target.ts';
import { diskFree, listLayers, readSchemas } from './commands.ts';
import { healthLines } from './contract.ts';
import {
  execute,
  liveViewParts,
  type Runners,
  readLiveView,
  readView,
  renderPlan,
  type StepEvent,
} from './execute.ts';
import { parseVmLayers } from './layers.ts';
import { DEFAULT_WARM_S, MAX_WARM_S } from './layout.ts';
import { takeLease } from './lease.ts';
import { type MigrationPlan, parseMigrationPlan } from './migrations.ts';
import {
  type Actor,
  cleanupPlan,
  DEFAULT_KEEP,
  deployPlan,
  type Host,
  lockPlan,
  type Plan,
  rollbackPlan,
  unlockPlan,
} from './plan.ts';
import { checkRelease } from './release.ts';
import { deploySpec } from './spec.ts';
import { isStale, lockAgeMs, rollbackTarget, StateError, type VmView, warmContainer } from './state.ts';

/** What a VM command reaches besides its arguments. */
export interface DeployIo {
  ctx: Context;
  target: Target;
  runners: Runners;
  where: Record<Host, string>;
  actor: Actor;
  root: string;
  dryRun: boolean;
  /** --lock-wait: seconds to queue behind a live holder of the lock. */
  lockWaitS: number;
}

/** The image to ship: a local --image as is, or one built here by `image build`. */
export interface ShipImage {
  image: string;
  imageId: string;
  release: string;
  gitSha: string;
}

const str = (v: Values, key: string) => v[key] as string | undefined;

/** Refuses what cannot mean anything before a byte moves: exit 2, naming the flag or the dir. */
export function checkUsage(
  v: Values,
  exists = fs.existsSync,
  isDir = (p: string) => fs.statSync(p).isDirectory(),
) {
  if (v.ref && v.image) throw new CliError('give --ref or --image, not both', 2);
  warmFor(v);
  if (v.app && v.image)
    throw new CliError('--app builds an image from DIR; --image takes a built one: give one', 2);
  const app = str(v, 'app');
  if (app) {
    const dir = resolve(app);
    const problem = appDirProblem(app, {
      dir: exists(dir) && isDir(dir),
      dockerfile: exists(join(dir, 'Dockerfile')),
    });
    if (problem) throw new CliError(problem, 2);
  }
}

/** --warm-for SECONDS: how long the colour a deploy or rollback leaves stays warm (0: stop it). */
export const warmFor = (v: Values) => count(str(v, 'warm-for'), 'warm-for', DEFAULT_WARM_S, MAX_WARM_S);

/** `readSchemas` lines ("<release> <json>") -> each release's recorded migration plan. */
export function parseSchemas(text: string): Record<string, MigrationPlan> {
  const out: Record<string, MigrationPlan> = {};
  for (const line of text.split('\n')) {
    const at = line.indexOf(' ');
    const plan = at > 0 ? parseMigrationPlan(line.slice(at + 1)) : undefined;
    if (plan) out[line.slice(0, at)] = plan;
  }
  return out;
}

/** Runs a plan (or prints it with --dry-run); `after` runs once it did, and what it returns joins --json. */
export async function runVmPlan(
  io: DeployIo,
  plan: Plan,
  extra: Record<string, unknown> = {},
  after: () => Promise<Record<string, unknown>> = async () => ({}),
): Promise<Result> {
  if (io.dryRun)
    return { code: 0, json: { ok: true, dryRun: true, plan, ...extra }, text: renderPlan(plan, io.where) };
  io.ctx.say(chalk.bold(`${plan.action}: ${plan.summary}`));
  const outcome = await execute(plan, io.runners, { onEvent: io.ctx.step });
  Object.assign(extra, await after());
  const text = [
    ...outcomeLines(plan.action, outcome, {
      sentBack: 'The proxy was switched back to the previous colour.',
      neverMoved: 'The proxy was never switched: the previous colour kept serving.',
    }),
    ...(outcome.health ? healthLines(outcome.health) : []),
  ].join('\n');
  return {
    code: outcome.ok ? 0 : 1,
    json: { action: plan.action, release: plan.record?.id, ...outcome, ...extra },
    text,
  };
}

async function imageToShip(v: Values, ctx: Context, root: string): Promise<ShipImage> {
  const given = str(v, 'image');
  if (given) {
    const id = (await $`docker image inspect --format {{.Id}} ${given}`.quiet().nothrow()).stdout.trim();
    if (!id) throw new CliError(`image ${given} is not on this machine (docker image ls)`, 2);
    const labels = (JSON.parse(
      (await $`docker image inspect --format ${'{{json .Config.Labels}}'} ${given}`.quiet()).stdout || '{}',
    ) ?? {}) as Record<string, string>;
    const release = labels['org.opencontainers.image.version'] ?? given.split(':').pop() ?? given;
    try {
      checkRelease(release, `image ${given} (label org.opencontainers.image.version, else its tag)`);
    } catch (e) {
      throw new CliError((e as Error).message, 2);
    }
    return {
      image: given,
      imageId: id,
      release,
      gitSha: labels['org.opencontainers.image.revision'] ?? 'unknown',
    };
  }
  const ref = str(v, 'ref');
  const app = str(v, 'app');
  ctx.progress(`build the image${ref ? ` at ${ref}` : ''}`);
  const args = ['build', '--json', ...(ref ? ['--ref', ref] : []), ...(app ? ['--app', resolve(app)] : [])];
  const out = await $({ cwd: root })`zx scripts/image.mjs ${args}`.quiet().nothrow();
  if (out.exitCode !== 0) {
    // The build's own --json error when it gave one (a usage error stays exit 2), else its output.
    const last = out.stdout.trim().split('\n').pop() ?? '';
    const said = last.startsWith('{') ? (JSON.parse(last) as { error?: string }).error : undefined;
    throw new CliError(
      `image build failed: ${said ?? `\n${out.stderr || out.stdout}`}`,
      out.exitCode === 2 ? 2 : 1,
    );
  }
  const built = JSON.parse(out.stdout.trim().split('\n').pop() ?? '{}') as Omit<ShipImage, 'imageId'>;
  const imageId = (await $`docker image inspect --format {{.Id}} ${built.image}`.quiet()).stdout.trim();
  return { image: built.image, imageId, release: built.release, gitSha: built.gitSha };
}

export async function deploy(
  io: DeployIo,
  view: VmView,
  img: ShipImage,
  o: { keep: number; allowDestructive: boolean; warmForS: number },
): Promise<Result> {
  const localArchive = join(tmpdir(), `e2m-${img.release}.tar.zst`);
  // The VM's layers matter only to an image it lacks: read them then, and only then (one SSH
  // command, which a rollback or a re-tag never pays).
  const layers = view.images.some((i) => i.id === img.imageId)
    ? []
    : parseVmLayers(await io.runners.vm.capture(listLayers()));
  const plan = deployPlan(
    { ...view, layers },
    {
      ...img,
      domain: io.target.domain,
      appCpus: io.target.appCpus,
      localArchive,
      actor: io.actor,
      ...o,
    },
  );
  try {
    return await runVmPlan(io, plan, { image: img.image });
  } finally {
    await fs.remove(localArchive);
  }
}

export async function cleanup(io: DeployIo, view: VmView, keep: number): Promise<Result> {
  const plan = cleanupPlan(view, keep, io.actor);
  // Release images share layers, so the sum of their sizes overstates what goes: the dry run
  // shows that upper bound; a real run measures the disk before and after.
  const avail = async () => Number((await io.runners.vm.capture(diskFree())).split('\n').pop());
  const before = io.dryRun ? 0 : await avail();
  const extra: Record<string, unknown> = {
    removed: plan.retention.remove.map((i) => i.ref),
    kept: plan.retention.keep,
    freedBytes: plan.retention.freedBytes,
  };
  // Other writes (the audit line) move df by a few KB; nothing freed is never negative.
  const r = await runVmPlan(io, plan, extra, async () => ({
    freedBytes: Math.max(0, (await avail()) - before),
  }));
  const mb = ((extra.freedBytes as number) / 1e6).toFixed(1);
  const lines = [
    r.text ?? '',
    ...plan.retention.keep.map((k) => `  kept    ${k.ref} (${k.why})`),
    ...plan.retention.remove.map((x) => `  ${io.dryRun ? 'would remove' : 'removed'} ${x.ref}`),
    io.dryRun
      ? `would free at most ${mb} MB (release images share layers)`
      : `freed ${mb} MB (df /var/lib/docker)`,
  ];
  return { ...r, text: lines.join('\n') };
}

export function releases(view: VmView): Result {
  const attempts = [...view.releases].reverse();
  // The serving release's newest successful attempt (a failed one never served).
  const serving = attempts.find((r) => r.id === view.active?.release && r.outcome !== 'failed');
  const head =
    '  id                                 image                                          sha      time                      who                  outcome';
  const rows = attempts.slice(0, 20).map((r) => {
    const mark = r === serving ? '*' : ' ';
    return `${mark} ${r.id.padEnd(34)} ${r.image.padEnd(46)} ${r.gitSha.slice(0, 7).padEnd(8)} ${r.time.padEnd(25)} ${r.who.padEnd(20)} ${r.outcome}${r.failedStep ? ` at ${r.failedStep}` : ''}`;
  });
  return {
    code: 0,
    json: { current: view.active?.release ?? null, releases: attempts },
    text: [head, ...rows].join('\n'),
  };
}

/** The warm colour in one line: what a rollback to it would be. */
export function warmLine(view: VmView): string {
  const w = view.warm;
  if (!w) return 'none (a rollback starts the parked colour)';
  return warmContainer(view)
    ? `${w.release} on ${w.colour} until ${w.until} (a rollback to it is just the switch)`
    : `${w.release} on ${w.colour} until ${w.until}, but its container is not running`;
}

export function status(target: Target, where: string, view: VmView): Result {
  const lock = view.lock;
  const text = [
    `target ${target.name} (${where})`,
    `serving: ${view.active ? `${view.active.release} on ${view.active.colour} since ${view.active.since}` : 'nothing yet (maintenance page)'}`,
    `warm: ${warmLine(view)}`,
    ...view.containers.map(
      (c) => `  ${c.name.padEnd(16)} ${c.running ? 'running' : 'stopped'}  ${c.release}`,
    ),
    `lock: ${lock ? `held by ${lock.who}@${lock.host} (${lock.command}) since ${lock.time}` : 'free'}`,
    `images: ${view.images.length}`,
  ];
  return {
    code: 0,
    json: {
      target: target.name,
      host: where,
      active: view.active ?? null,
      warm: view.warm ? { ...view.warm, running: warmContainer(view) !== undefined } : null,
      containers: view.containers,
      lock: lock ?? null,
      images: view.images.map((i) => i.ref),
    },
    text: text.join('\n'),
  };
}

/** `lock` refuses to take a lock someone holds (a deploy's lease, or another manual lock). */
export function refuseIfLocked(view: VmView, now: Date): void {
  if (!view.lock) return;
  const age = Math.round(lockAgeMs(view.lock, now) / 60000);
  const stale = isStale(view.lock, now)
    ? ' - stale: that deploy probably died; `unlock --force` after checking `status`'
    : '';
  throw new CliError(
    `locked by ${view.lock.who}@${view.lock.host} (${view.lock.command}) for ${age} min${stale}`,
  );
}

/**
 * A command that changes the VM: take the lock's lease first, then read the VM and reconcile it
 * with what the proxy serves, then plan; the plan is never made from state read before the lock.
 * A dry run takes no lock and changes nothing.
 */
export async function underLease(
  io: DeployIo,
  command: string,
  body: (io: DeployIo, view: VmView, schemas: Record<string, MigrationPlan>) => Promise<Result>,
  o: { schemas?: boolean } = {},
): Promise<Result> {
  const vm = io.runners.vm;
  if (io.dryRun) {
    const schemas = o.schemas ? parseSchemas(await vm.capture(readSchemas())) : {};
    return body(io, await readView(vm), schemas);
  }
  const lease = await takeLease(vm, io.actor, command, {
    waitS: io.lockWaitS,
    say: io.ctx.progress,
    read: liveViewParts(io.target.domain, o),
  });
  try {
    const live = await readLiveView(vm, io.target.domain, io.actor, { ...o, read: lease.read });
    if (live.repaired)
      io.ctx.say(chalk.yellow(`repaired: ${live.repaired}; state.json now names what serves`));
    // The plan's own unlock step (or its rescue's) releases the lock: the lease need not again.
    const step = (e: StepEvent) => {
      if (e.type === 'done' && e.step.id === 'unlock') lease.released();
      io.ctx.step(e);
    };
    const r = await body({ ...io, ctx: { ...io.ctx, step } }, live.view, parseSchemas(live.schemas ?? ''));
    if (!lease.lost) return r;
    const warning = 'the deploy lock was taken over while this ran (its heartbeat stalled): check `status`';
    return { ...r, text: `${r.text ?? ''}\n${chalk.yellow(`warning: ${warning}`)}` };
  } finally {
    await lease.end();
  }
}

/** Staging and prod get committed code: a build of a dirty working tree needs --allow-dirty. */
async function refuseDirty(io: DeployIo, v: Values): Promise<void> {
  if (v.image || v.ref || v['allow-dirty'] || !['staging', 'prod'].includes(io.target.name)) return;
  const dir = str(v, 'app') ?? 'backend';
  const changed = (
    await $`git -C ${io.root} status --porcelain -- ${resolve(dir)}`.quiet().nothrow()
  ).stdout.trim();
  if (changed)
    throw new CliError(
      `${dir} has uncommitted changes (git status), and ${io.target.name} gets committed code: commit them, deploy --ref GIT_REF, or pass --allow-dirty`,
      2,
    );
}

/** One VM command on a connected VM. */
export async function vmCommand(
  io: DeployIo,
  inv: Invocation,
  vm: Runner & { where: string },
): Promise<Result> {
  const v = inv.values;
  const keep = () => count(str(v, 'keep'), 'keep', DEFAULT_KEEP);
  const warmForS = warmFor(v);
  switch (inv.command) {
    case 'deploy': {
      const n = keep();
      await refuseDirty(io, v);
      // Built before the lock (minutes, and nothing on the VM changes); planned under it.
      const img = await imageToShip(v, io.ctx, io.root);
      const allowDestructive = v['allow-destructive'] === true;
      return underLease(io, `deploy ${img.release}`, (io, view) =>
        deploy(io, view, img, { keep: n, allowDestructive, warmForS }),
      );
    }
    case 'rollback':
      return underLease(
        io,
        `rollback ${inv.rest[0] ?? 'previous'}`,
        async (io, view, schemas) => {
          const target = rollbackTarget(view, inv.rest[0]);
          const plan = rollbackPlan(
            view,
            target,
            io.target.domain,
            io.actor,
            { schemas, force: v.force === true },
            { warmForS, appCpus: io.target.appCpus },
          );
          return runVmPlan(io, plan);
        },
        { schemas: true },
      );
    case 'cleanup': {
      const n = keep();
      return underLease(io, `cleanup --keep ${n}`, (io, view) => cleanup(io, view, n));
    }
    case 'releases':
      return releases(await readView(vm));
    case 'status':
      return status(io.target, vm.where, await readView(vm));
    case 'lock': {
      refuseIfLocked(await readView(vm), new Date());
      return runVmPlan(io, lockPlan(io.actor));
    }
    default:
      return runVmPlan(io, unlockPlan(await readView(vm), io.actor, v.force === true));
  }
}

async function main(inv: Invocation, ctx: Context, root: string): Promise<Result> {
  checkUsage(inv.values);
  // One inventory file says both where and how (E2M_INVENTORY or inventory/<target>): an
  // environment moved to Cloud Run (README: Growth path) deploys through the Cloud Run API.
  const resolved = readResolvedTarget(str(inv.values, 'target') ?? 'twin', root);
  // Loaded only for such a target: the Cloud Run clients take a third of a second to import, which
  // every VM command (a warm rollback is well under a second of its own) would otherwise pay.
  if (resolved.platform === 'cloud_run') {
    const { cloudRunCommand } = await import('../cloudrun/cli.ts');
    return cloudRunCommand(resolved.target, inv, ctx, root);
  }
  const target = resolved.target;
  // git (for the audit's who) answers while the SSH handshake is under way.
  const actor = currentActor(root);
  const vm = await connectVm({ ...target, user: target.deployUser }, target.inventoryFile).catch(
    async (e) => {
      await actor;
      throw e;
    },
  );
  try {
    const io: DeployIo = {
      ctx,
      target,
      runners: { local: new LocalRunner(), vm },
      where: { local: 'local', vm: vm.where },
      actor: await actor,
      root,
      dryRun: inv.values['dry-run'] === true,
      lockWaitS: count(str(inv.values, 'lock-wait'), 'lock-wait', 0, 3600),
    };
    return await vmCommand(io, inv, vm);
  } finally {
    await vm.close();
  }
}

export const deployCli: Cli = { spec: deploySpec, main, expected: [StateError] };
