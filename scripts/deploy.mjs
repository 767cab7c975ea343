#!/usr/bin/env zx
// zx scripts/deploy.mjs <command>: blue-green deploys to the VM over SSH, rollback, releases,
// cleanup, status and the deploy lock. Thin: parse, load the target, read the VM, build the plan
// (lib/deploy/plan.ts), run it (lib/deploy/execute.ts), print. Exit code: 0 ok, 1 failed, 2 usage.
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { $, chalk, echo, fs, minimist } from 'zx';
import { currentActor, failer, handleHelp } from './lib/cli.ts';
import { cloudRunCommand } from './lib/cloudrun/cli.ts';
import { diskFree } from './lib/deploy/commands.ts';
import { execute, readView, renderPlan } from './lib/deploy/execute.ts';
import {
  cleanupPlan,
  DEFAULT_KEEP,
  deployPlan,
  lockPlan,
  rollbackPlan,
  unlockPlan,
} from './lib/deploy/plan.ts';
import { isStale, lockAgeMs, rollbackTarget, StateError } from './lib/deploy/state.ts';
import { appDirProblem } from './lib/image/plan.ts';
import { outcomeLines, stepLine } from './lib/plan/progress.ts';
import { LocalRunner, SshRunner } from './lib/runner.ts';
import { resolveTarget, TargetError } from './lib/target.ts';

const HELP = {
  main: `Usage: zx scripts/deploy.mjs <command> [options]     (or: npm run deploy -- <command>)

Commands:
  deploy [--ref GIT_REF | --image IMAGE]   build (or take) an image and deploy it blue-green;
            [--app DIR] [--keep N]        then apply image retention (default 5)
  rollback [RELEASE]                      back to the previous (or the named) release
  releases                                recent releases; the serving one marked *
  cleanup [--keep N]                      remove old images (keeps N=5 most recent, in-use,
                                          and tags latest, stable, semantic versions)
  status                                  the serving colour and release, containers, lock
  lock | unlock [--force]                 hold or release the deploy lock

On an environment whose platform is cloud_run (terraform/, inventory group cloud_run) the same
commands go to the Cloud Run API: deploy [--image REGISTRY/IMAGE:TAG | --ref GIT_REF] runs the
migrate job, then a new revision with all traffic; rollback [REVISION] moves the traffic to the
previous (or the named) revision; releases lists revisions; status names the serving one.

Options (every command):
  --target twin|dev|staging|prod   where to (default twin)
  --dry-run                        print the exact plan (every command on every host), change nothing
  --json                           machine-readable output
  -h, --help                       help (also after a command)`,
  deploy: `Usage: deploy [--ref GIT_REF | --image IMAGE] [--app DIR] [--keep N] [--target T] [--dry-run] [--json]
Builds the backend image from the working tree (or GIT_REF), or takes a local IMAGE; --app DIR
builds DIR's Dockerfile instead (your own app: see docs/app-contract.md, example examples/byo-bun).
Any image must meet that contract, and a deploy that finds a piece missing says which. Ships it to
the VM unless the VM has that image id (docker save | zstd | ssh | docker load); runs migrations;
starts the idle colour; waits for /readyz; switches Caddy; verifies; drains and stops the old
colour (kept for rollback); records the release; then removes images beyond the N (--keep,
default 5) most recent releases, never one in use or tagged latest, stable or x.y.z. Any
failure stops the new colour and leaves the old one serving.`,
  rollback: `Usage: rollback [RELEASE] [--target T] [--dry-run] [--json]
Starts the previous (or the named) release in the idle colour (the parked container when it is
that release: a few seconds), switches Caddy and stops the current one.`,
  releases:
    'Usage: releases [--target T] [--json]\nId, image, git sha, time, who and outcome of recent releases; * marks the serving one.',
  cleanup:
    'Usage: cleanup [--keep N] [--target T] [--dry-run] [--json]\nRemoves images beyond the N (default 5) most recent releases; never one a container uses or tagged latest, stable or x.y.z.',
  status: 'Usage: status [--target T] [--json]',
  lock: 'Usage: lock [--target T]\nTakes the deploy lock so no deploy runs until `unlock`.',
  unlock:
    'Usage: unlock [--force] [--target T]\nReleases the lock; --force breaks one held by someone else (say, a deploy that died).',
};

// Arguments after this script's path, whether run by `zx scripts/deploy.mjs` or `node scripts/deploy.mjs`.
const argv = minimist(process.argv.slice(process.argv.findIndex((a) => a.endsWith('deploy.mjs')) + 1), {
  string: ['target', 'ref', 'image', 'keep', 'app'],
  boolean: ['dry-run', 'json', 'force', 'help'],
  alias: { h: 'help' },
  default: { target: 'twin' },
});
const [command, ...rest] = argv._;
const root = resolve(import.meta.dirname, '..');
const t0 = Date.now();
const json = argv.json;
const say = (...a) => json || echo(...a);
const fail = failer(json);

handleHelp(HELP, command, argv.help, fail);
if (argv.ref && argv.image) fail('give --ref or --image, not both', 2);
if (argv.app && argv.image) fail('--app builds an image from DIR; --image takes a built one: give one', 2);
if (argv.app) {
  const dir = resolve(argv.app);
  const problem = appDirProblem(argv.app, {
    dir: fs.existsSync(dir) && fs.statSync(dir).isDirectory(),
    dockerfile: fs.existsSync(join(dir, 'Dockerfile')),
  });
  if (problem) fail(problem, 2);
}

// One inventory file says both where and how (E2M_INVENTORY or inventory/<target>): an
// environment moved to Cloud Run (README: Growth path) deploys through the Cloud Run API.
let resolved;
try {
  resolved = resolveTarget(argv.target, root);
} catch (e) {
  fail(e instanceof TargetError ? e.message : String(e), 2);
}
if (resolved.platform === 'cloud_run')
  process.exit(await cloudRunCommand(resolved.target, { command, rest, argv, root, t0 }));
const target = resolved.target;

const actor = await currentActor(root);
const deployUser = target.deployUser ?? 'deploy';
let vm;
try {
  vm = await SshRunner.connect({
    host: target.host,
    port: target.port,
    user: deployUser,
    keyFile: target.keyFile,
    knownHostsFile: target.knownHostsFile,
  });
} catch (e) {
  fail(
    `cannot reach ${deployUser}@${target.host}:${target.port} over SSH (${target.inventoryFile}): ${e.message}`,
  );
}
const runners = { local: new LocalRunner(), vm };
const where = { local: 'local', vm: vm.where };

const progress = (e) => json || echo(stepLine(e, Date.now() - t0));

/** `after` runs once the plan did; what it returns joins the --json output. */
async function runPlan(plan, extra = {}, after = async () => ({})) {
  if (argv['dry-run']) {
    if (json) echo(JSON.stringify({ ok: true, dryRun: true, plan, ...extra }));
    else echo(renderPlan(plan, where));
    return true;
  }
  say(chalk.bold(`${plan.action}: ${plan.summary}`));
  const outcome = await execute(plan, runners, { onEvent: progress });
  Object.assign(extra, await after());
  if (json)
    echo(
      JSON.stringify({ ok: outcome.ok, action: plan.action, release: plan.record?.id, ...outcome, ...extra }),
    );
  else
    for (const line of outcomeLines(plan.action, outcome, {
      sentBack: 'The proxy was switched back to the previous colour.',
      neverMoved: 'The proxy was never switched: the previous colour kept serving.',
    }))
      echo(line);
  return outcome.ok;
}

const keepArg = () => (argv.keep === undefined ? DEFAULT_KEEP : Number(argv.keep));

async function buildImage() {
  if (argv.image) {
    const id = (await $`docker image inspect --format {{.Id}} ${argv.image}`.quiet().nothrow()).stdout.trim();
    if (!id) fail(`image ${argv.image} is not on this machine (docker image ls)`, 2);
    const labels =
      JSON.parse(
        (await $`docker image inspect --format ${'{{json .Config.Labels}}'} ${argv.image}`.quiet()).stdout ||
          '{}',
      ) ?? {};
    const release = labels['org.opencontainers.image.version'] ?? argv.image.split(':').pop();
    return {
      image: argv.image,
      imageId: id,
      release,
      gitSha: labels['org.opencontainers.image.revision'] ?? 'unknown',
    };
  }
  say(
    chalk.dim(
      `[${((Date.now() - t0) / 1000).toFixed(1)}s] build the image${argv.ref ? ` at ${argv.ref}` : ''}`,
    ),
  );
  const args = [
    'build',
    '--json',
    ...(argv.ref ? ['--ref', argv.ref] : []),
    ...(argv.app ? ['--app', resolve(argv.app)] : []),
  ];
  const out = await $({ cwd: root })`zx scripts/image.mjs ${args}`.quiet().nothrow();
  if (out.exitCode !== 0) fail(`image build failed:\n${out.stderr || out.stdout}`);
  const built = JSON.parse(out.stdout.trim().split('\n').pop());
  const imageId = (await $`docker image inspect --format {{.Id}} ${built.image}`.quiet()).stdout.trim();
  return { image: built.image, imageId, release: built.release, gitSha: built.gitSha };
}

let ok = true;
try {
  const view = await readView(vm);
  if (view.lock && !['status', 'releases', 'unlock'].includes(command)) {
    const age = Math.round(lockAgeMs(view.lock, new Date()) / 60000);
    fail(
      `locked by ${view.lock.who}@${view.lock.host} (${view.lock.command}) for ${age} min${isStale(view.lock, new Date()) ? ' - stale: that deploy probably died; `unlock --force` after checking `status`' : ''}`,
    );
  }
  switch (command) {
    case 'deploy': {
      const img = await buildImage();
      const localArchive = join(tmpdir(), `e2m-${img.release}.tar.zst`);
      ok = await runPlan(
        deployPlan(view, { ...img, domain: target.domain, localArchive, actor, keep: keepArg() }),
        {
          image: img.image,
        },
      );
      await fs.remove(localArchive);
      break;
    }
    case 'rollback': {
      ok = await runPlan(rollbackPlan(view, rollbackTarget(view, rest[0]), target.domain, actor));
      break;
    }
    case 'cleanup': {
      const keep = keepArg();
      const plan = cleanupPlan(view, keep, actor);
      // Release images share layers, so the sum of their sizes overstates what goes: the dry run
      // shows that upper bound; a real run measures the disk before and after.
      const avail = async () => Number((await vm.capture(diskFree())).split('\n').pop());
      const before = argv['dry-run'] ? 0 : await avail();
      const result = {
        removed: plan.retention.remove.map((i) => i.ref),
        kept: plan.retention.keep,
        freedBytes: plan.retention.freedBytes,
      };
      // Other writes (the audit line) move df by a few KB; nothing freed is never negative.
      ok = await runPlan(plan, result, async () => ({ freedBytes: Math.max(0, (await avail()) - before) }));
      if (!json) {
        for (const k of plan.retention.keep) echo(`  kept    ${k.ref} (${k.why})`);
        for (const r of plan.retention.remove)
          echo(`  ${argv['dry-run'] ? 'would remove' : 'removed'} ${r.ref}`);
        const mb = (result.freedBytes / 1e6).toFixed(1);
        echo(
          argv['dry-run']
            ? `would free at most ${mb} MB (release images share layers)`
            : `freed ${mb} MB (df /var/lib/docker)`,
        );
      }
      break;
    }
    case 'releases': {
      const attempts = [...view.releases].reverse();
      // The serving release's newest successful attempt (a failed one never served).
      const serving = attempts.find((r) => r.id === view.active?.release && r.outcome !== 'failed');
      if (json) echo(JSON.stringify({ current: view.active?.release ?? null, releases: attempts }));
      else {
        echo(
          '  id                                 image                                          sha      time                      who                  outcome',
        );
        for (const r of attempts.slice(0, 20)) {
          const mark = r === serving ? '*' : ' ';
          echo(
            `${mark} ${r.id.padEnd(34)} ${r.image.padEnd(46)} ${r.gitSha.slice(0, 7).padEnd(8)} ${r.time.padEnd(25)} ${r.who.padEnd(20)} ${r.outcome}${r.failedStep ? ` at ${r.failedStep}` : ''}`,
          );
        }
      }
      break;
    }
    case 'status': {
      const s = {
        target: target.name,
        host: vm.where,
        active: view.active ?? null,
        containers: view.containers,
        lock: view.lock ?? null,
        images: view.images.map((i) => i.ref),
      };
      if (json) echo(JSON.stringify(s));
      else {
        echo(`target ${target.name} (${vm.where})`);
        echo(
          `serving: ${view.active ? `${view.active.release} on ${view.active.colour} since ${view.active.since}` : 'nothing yet (maintenance page)'}`,
        );
        for (const c of view.containers)
          echo(`  ${c.name.padEnd(16)} ${c.running ? 'running' : 'stopped'}  ${c.release}`);
        echo(
          `lock: ${view.lock ? `held by ${view.lock.who}@${view.lock.host} (${view.lock.command}) since ${view.lock.time}` : 'free'}`,
        );
        echo(`images: ${view.images.length}`);
      }
      break;
    }
    case 'lock':
      ok = await runPlan(lockPlan(actor));
      break;
    case 'unlock':
      ok = await runPlan(unlockPlan(view, actor, argv.force));
      break;
  }
} catch (e) {
  if (e instanceof StateError) fail(e.message);
  throw e;
} finally {
  await vm.close();
}
process.exit(ok ? 0 : 1);
