// `zx scripts/deploy.mjs <command> --target T` for a target whose platform is cloud_run: read the
// service, build the plan (plan.ts), run it (execute.ts), print. The VM commands that have no
// meaning here (lock, unlock, cleanup) say so: Cloud Run serialises updates by etag, and the
// image repository's cleanup policy (terraform/cloud_run.tf) prunes old images.
import { $, chalk } from 'zx';
import type { Invocation, Values } from '../cli/args.ts';
import { CliError, type Context, type Result } from '../cli/context.ts';
import { outcomeLines } from '../plan/progress.ts';
import { type Clients, createClients, execute, readView, type View } from './execute.ts';
import {
  deployPlan,
  isReady,
  type Plan,
  PlanError,
  releaseOf,
  renderPlan,
  rollbackPlan,
  servingRevision,
  shortName,
} from './plan.ts';
import type { CloudRunTarget } from './target.ts';

/** The image to deploy: a pushed --image as is, or built here (at --ref) and pushed to the repository. */
async function imageToDeploy(target: CloudRunTarget, v: Values, root: string, ctx: Context) {
  const given = v.image as string | undefined;
  const ref = v.ref as string | undefined;
  if (given) {
    const digest = /@sha256:([a-f0-9]{12})/.exec(given)?.[1];
    const release = digest ?? given.split(':').pop() ?? '';
    return { image: given, release };
  }
  ctx.progress(`build the image${ref ? ` at ${ref}` : ''}`);
  const args = ['build', '--json', ...(ref ? ['--ref', ref] : [])];
  const built = JSON.parse(
    (await $({ cwd: root })`zx scripts/image.mjs ${args}`.quiet()).stdout.trim().split('\n').pop() ?? '{}',
  ) as { image: string; release: string };
  const image = `${target.imageRepository}/backend:${built.release}`;
  ctx.progress(
    `push ${image} (docker needs credentials for it: gcloud auth configure-docker ${image.split('/')[0]})`,
  );
  await $`docker tag ${built.image} ${image}`.quiet();
  await $`docker push ${image}`.quiet();
  return { image, release: built.release };
}

export async function cloudRunCommand(
  target: CloudRunTarget,
  inv: Invocation,
  ctx: Context,
  root: string,
): Promise<Result> {
  const v = inv.values;
  const where = `Cloud Run service ${target.service} in ${target.projectId}/${target.region}`;
  if (['lock', 'unlock', 'cleanup'].includes(inv.command)) {
    const etag = 'Cloud Run rejects a concurrent update by its etag, so there is no deploy lock';
    const why =
      inv.command === 'cleanup'
        ? "the image repository's cleanup policy keeps the recent releases (terraform/cloud_run.tf)"
        : etag;
    throw new CliError(`${inv.command} does not apply to ${where}: ${why}`, 2);
  }
  if (inv.command === 'deploy' && v['dry-run'] && !v.image)
    throw new CliError(
      'on Cloud Run, --dry-run needs --image: building and pushing an image is not a dry run',
      2,
    );

  const clients: Clients = createClients(target);
  try {
    const view = await readView(clients, target);
    const run = async (plan: Plan): Promise<Result> => {
      if (v['dry-run']) return { code: 0, json: { ok: true, dryRun: true, plan }, text: renderPlan(plan) };
      ctx.say(chalk.bold(`${plan.action}: ${plan.summary}`));
      const outcome = await execute(plan, clients, { onEvent: ctx.step });
      const text = outcomeLines(plan.action, outcome, {
        done: `: ${shortName(plan.revision)} serves`,
        sentBack: `Traffic was sent back; serving: ${outcome.serving ?? 'unknown (check with: npm run deploy -- status)'}`,
        neverMoved: 'Traffic never moved: the previous revision kept serving.',
      }).join('\n');
      return {
        code: outcome.ok ? 0 : 1,
        json: { action: plan.action, revision: plan.revision, ...outcome },
        text,
      };
    };
    switch (inv.command) {
      case 'deploy': {
        const { image, release } = await imageToDeploy(target, v, root, ctx);
        const now = new Date().toISOString();
        return await run(deployPlan(target, view.service, view.job, { image, release, now }));
      }
      case 'rollback':
        return await run(rollbackPlan(target, view.service, view.revisions, inv.rest[0]));
      default:
        return listing(target, where, view, inv.command === 'status');
    }
  } catch (e) {
    if (e instanceof PlanError) throw new CliError(e.message, 2);
    if (e instanceof CliError) throw e;
    const message = e instanceof Error ? e.message : String(e);
    throw new CliError(`${where}: ${message}`);
  } finally {
    await clients.close();
  }
}

/** `releases` (the last 20 revisions) and `status` (the serving one). */
function listing(target: CloudRunTarget, where: string, view: View, statusOnly: boolean): Result {
  const serving = servingRevision(view.service);
  const revisions = view.revisions.map((r) => ({
    revision: shortName(r.name),
    release: releaseOf(r),
    created: r.createTime?.seconds ? new Date(Number(r.createTime.seconds) * 1000).toISOString() : '',
    ready: isReady(r),
    serving: shortName(r.name) === serving,
  }));
  const shown = statusOnly ? revisions.filter((x) => x.serving) : revisions.slice(0, 20);
  const text = [
    `target ${target.name}: ${where}, ${target.serviceUrl}`,
    `serving: ${serving ?? 'nothing'}`,
    ...shown.map(
      (r) =>
        `${r.serving ? '*' : ' '} ${r.revision.padEnd(50)} ${r.release.padEnd(28)} ${r.created.padEnd(25)} ${r.ready ? 'ready' : 'not ready'}`,
    ),
  ];
  return {
    code: 0,
    json: {
      target: target.name,
      platform: 'cloud_run',
      url: target.serviceUrl,
      serving: serving ?? null,
      revisions,
    },
    text: text.join('\n'),
  };
}
