// `zx scripts/deploy.mjs <command> --target T` for a target whose platform is cloud_run: read the
// service, build the plan (plan.ts), run it (execute.ts), print. The VM commands that have no
// meaning here (lock, unlock, cleanup) say so: Cloud Run serialises updates by etag, and the
// image repository's cleanup policy (terraform/cloud_run.tf) prunes old images.
import { $, chalk, echo } from 'zx';
import { outcomeLines, stepLine } from '../plan/progress.ts';
import { type Clients, createClients, execute, readView, type StepEvent } from './execute.ts';
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

export interface CliOptions {
  command: string;
  rest: string[];
  argv: { image?: string; ref?: string; 'dry-run'?: boolean; json?: boolean };
  root: string;
  t0: number;
}

/** The image to deploy: a pushed --image as is, or built here (at --ref) and pushed to the repository. */
async function imageToDeploy(target: CloudRunTarget, o: CliOptions, say: (s: string) => void) {
  if (o.argv.image) {
    const digest = /@sha256:([a-f0-9]{12})/.exec(o.argv.image)?.[1];
    const release = digest ?? o.argv.image.split(':').pop() ?? '';
    return { image: o.argv.image, release };
  }
  say(chalk.dim(`build the image${o.argv.ref ? ` at ${o.argv.ref}` : ''}`));
  const args = ['build', '--json', ...(o.argv.ref ? ['--ref', o.argv.ref] : [])];
  const built = JSON.parse(
    (await $({ cwd: o.root })`zx scripts/image.mjs ${args}`.quiet()).stdout.trim().split('\n').pop() ?? '{}',
  ) as { image: string; release: string };
  const image = `${target.imageRepository}/backend:${built.release}`;
  say(
    chalk.dim(
      `push ${image} (docker needs credentials for it: gcloud auth configure-docker ${image.split('/')[0]})`,
    ),
  );
  await $`docker tag ${built.image} ${image}`.quiet();
  await $`docker push ${image}`.quiet();
  return { image, release: built.release };
}

export async function cloudRunCommand(target: CloudRunTarget, o: CliOptions): Promise<number> {
  const json = !!o.argv.json;
  const say = (s: string) => json || echo(s);
  const progress = (e: StepEvent) => json || echo(stepLine(e, Date.now() - o.t0));
  const where = `Cloud Run service ${target.service} in ${target.projectId}/${target.region}`;
  if (['lock', 'unlock', 'cleanup'].includes(o.command)) {
    const why = {
      lock: 'Cloud Run rejects a concurrent update by its etag, so there is no deploy lock',
      unlock: 'Cloud Run rejects a concurrent update by its etag, so there is no deploy lock',
      cleanup: "the image repository's cleanup policy keeps the recent releases (terraform/cloud_run.tf)",
    }[o.command];
    echo(chalk.red(`error: ${o.command} does not apply to ${where}: ${why}`));
    return 2;
  }

  const clients: Clients = createClients(target);
  try {
    const view = await readView(clients, target);
    const run = async (plan: Plan) => {
      if (o.argv['dry-run']) {
        echo(json ? JSON.stringify({ ok: true, dryRun: true, plan }) : renderPlan(plan));
        return true;
      }
      say(chalk.bold(`${plan.action}: ${plan.summary}`));
      const outcome = await execute(plan, clients, { onEvent: progress });
      if (json) echo(JSON.stringify({ action: plan.action, revision: plan.revision, ...outcome }));
      else
        for (const line of outcomeLines(plan.action, outcome, {
          done: `: ${shortName(plan.revision)} serves`,
          sentBack: `Traffic was sent back; serving: ${outcome.serving ?? 'unknown (check with: npm run deploy -- status)'}`,
          neverMoved: 'Traffic never moved: the previous revision kept serving.',
        }))
          echo(line);
      return outcome.ok;
    };
    switch (o.command) {
      case 'deploy': {
        if (o.argv['dry-run'] && !o.argv.image) {
          echo(
            chalk.red(
              'error: on Cloud Run, --dry-run needs --image: building and pushing an image is not a dry run',
            ),
          );
          return 2;
        }
        const { image, release } = await imageToDeploy(target, o, say);
        const now = new Date().toISOString();
        return (await run(deployPlan(target, view.service, view.job, { image, release, now }))) ? 0 : 1;
      }
      case 'rollback':
        return (await run(rollbackPlan(target, view.service, view.revisions, o.rest[0]))) ? 0 : 1;
      case 'releases':
      case 'status': {
        const serving = servingRevision(view.service);
        const revisions = view.revisions.map((r) => ({
          revision: shortName(r.name),
          release: releaseOf(r),
          created: r.createTime?.seconds ? new Date(Number(r.createTime.seconds) * 1000).toISOString() : '',
          ready: isReady(r),
          serving: shortName(r.name) === serving,
        }));
        if (json) {
          echo(
            JSON.stringify({
              target: target.name,
              platform: 'cloud_run',
              url: target.serviceUrl,
              serving: serving ?? null,
              revisions,
            }),
          );
        } else {
          echo(`target ${target.name}: ${where}, ${target.serviceUrl}`);
          echo(`serving: ${serving ?? 'nothing'}`);
          for (const r of o.command === 'status'
            ? revisions.filter((x) => x.serving)
            : revisions.slice(0, 20))
            echo(
              `${r.serving ? '*' : ' '} ${r.revision.padEnd(50)} ${r.release.padEnd(28)} ${r.created.padEnd(25)} ${r.ready ? 'ready' : 'not ready'}`,
            );
        }
        return 0;
      }
      default:
        echo(chalk.red(`error: unknown command: ${o.command}`));
        return 2;
    }
  } catch (e) {
    if (e instanceof PlanError) {
      echo(json ? JSON.stringify({ ok: false, error: e.message }) : chalk.red(`error: ${e.message}`));
      return 2;
    }
    const message = e instanceof Error ? e.message : String(e);
    echo(json ? JSON.stringify({ ok: false, error: message }) : chalk.red(`error: ${where}: ${message}`));
    return 1;
  } finally {
    await clients.close();
  }
}
