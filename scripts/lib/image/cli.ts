// `npm run image -- base|build`: `base` makes the two Debian-built bases (cached by recipe),
// `build` makes the app image on them. Plans are pure in plan.ts; this runs them and prints.
import { readFile } from 'node:fs/promises';
import { $, chalk, echo, fs, path, tmpdir } from 'zx';
import type { Invocation, Values } from '../cli/args.ts';
import { CliError, type Context, type Result } from '../cli/context.ts';
import type { Cli } from '../cli/run.ts';
import {
  APP_REPO,
  appDirProblem,
  baseImages,
  baseRecipeHash,
  buildArgv,
  importArgv,
  releaseId,
} from './plan.ts';
import { imageSpec } from './spec.ts';

type Say = (msg: string) => void;

async function baseRecipe(backend: string) {
  const rootfsScript = await readFile(path.join(backend, 'image/rootfs.sh'), 'utf8');
  const packageVersions: Record<string, string> = {};
  for (const pkg of ['libc6', 'ca-certificates']) {
    const out = await $`apt-cache show --no-all-versions ${pkg}`.quiet();
    packageVersions[pkg] = /^Version: (.+)$/m.exec(out.stdout)?.[1] ?? 'unknown';
  }
  const bunVersion = (await $`bun --version`.quiet()).stdout.trim();
  // The builder carries the host's CA bundle (see rootfs.sh), so a change of it is a new recipe.
  packageVersions['build-ca'] = (
    await $`sha256sum ${process.env.BUILD_CA_BUNDLE ?? '/etc/ssl/certs/ca-certificates.crt'}`.quiet()
  ).stdout.slice(0, 16);
  const hash = baseRecipeHash({ rootfsScript, packageVersions, bunVersion });
  return { hash, images: baseImages(hash), packageVersions, bunVersion };
}

const imageExists = async (image: string) =>
  (await $`docker image inspect ${image}`.quiet().nothrow()).exitCode === 0;

async function ensureBase(backend: string, dryRun: boolean, progress: Say) {
  const recipe = await baseRecipe(backend);
  const labels = {
    'org.opencontainers.image.base.recipe': recipe.hash,
    ...recipe.packageVersions,
    bun: recipe.bunVersion,
  };
  const bunBinary = (
    await $`readlink -f ${(await $`which bun`.quiet()).stdout.trim()}`.quiet()
  ).stdout.trim();
  for (const [kind, image] of Object.entries(recipe.images)) {
    if (await imageExists(image)) {
      progress(`${kind} base ${image}: cached`);
      continue;
    }
    const tar = path.join(tmpdir(), `${kind}.tar`);
    const rootfs = [
      'bash',
      path.join(backend, 'image/rootfs.sh'),
      tar,
      ...(kind === 'builder' ? [bunBinary] : []),
    ];
    const imp = importArgv(tar, image, labels);
    if (dryRun) {
      echo(`${rootfs.join(' ')}\n${imp.join(' ')}`);
      continue;
    }
    progress(`${kind} base ${image}: building from Debian packages`);
    await $({ env: { ...process.env, SOURCE_DATE_EPOCH: '0' } })`${rootfs}`;
    await $`${imp}`.quiet();
    await fs.remove(tar);
    progress(`${kind} base ${image}: done`);
  }
  return recipe;
}

async function gitInfo(root: string, context: string) {
  const sha = (await $`git -C ${root} rev-parse HEAD`.quiet().nothrow()).stdout.trim() || 'unknown';
  const epoch = Number((await $`git -C ${root} log -1 --format=%ct`.quiet().nothrow()).stdout.trim()) || 0;
  const dirty =
    (await $`git -C ${root} status --porcelain -- ${context}`.quiet().nothrow()).stdout.trim() !== '';
  return { sha, epoch, dirty };
}

/**
 * --ref REF: the context exactly as REF has it (git archive into a scratch directory), with REF's
 * commit and time, never the working tree. A usage error names a ref git does not know or a
 * directory outside the repository.
 */
async function exportAtRef(root: string, context: string, ref: string) {
  const sha = (
    await $`git -C ${root} rev-parse --verify --quiet ${`${ref}^{commit}`}`.quiet().nothrow()
  ).stdout.trim();
  if (!sha) throw new CliError(`--ref ${ref}: no such commit in this repository (git rev-parse)`, 2);
  const rel = path.relative(root, context);
  if (rel.startsWith('..') || path.isAbsolute(rel))
    throw new CliError(`--ref builds from git: ${context} is not inside this repository`, 2);
  const epoch = Number((await $`git -C ${root} log -1 --format=%ct ${sha}`.quiet()).stdout.trim());
  const scratch = await fs.mkdtemp(path.join(tmpdir(), 'e2m-ref-'));
  const tar = path.join(scratch, 'src.tar');
  const archived = await $`git -C ${root} archive --format=tar -o ${tar} ${sha} -- ${rel || '.'}`
    .quiet()
    .nothrow();
  if (archived.exitCode !== 0) {
    await fs.remove(scratch);
    throw new CliError(`--ref ${ref}: ${rel || '.'} is not in that commit (${archived.stderr.trim()})`, 2);
  }
  await $`tar -x -f ${tar} -C ${scratch}`.quiet();
  await fs.remove(tar);
  return { dir: path.join(scratch, rel), scratch, git: { sha, epoch, dirty: false } };
}

async function build(v: Values, root: string, dryRun: boolean, progress: Say): Promise<Result> {
  const backend = path.join(root, 'backend');
  const dir = (v.app ?? v.context) as string | undefined;
  const context = dir ? path.resolve(dir) : backend;
  const problem = appDirProblem(dir ?? 'backend', {
    dir: fs.existsSync(context) && fs.statSync(context).isDirectory(),
    dockerfile: fs.existsSync(path.join(context, 'Dockerfile')),
  });
  if (problem) {
    echo(chalk.red(problem));
    return { code: 2 };
  }
  const ref = v.ref as string | undefined;
  const atRef = ref ? await exportAtRef(root, context, ref) : undefined;
  try {
    return await buildContext(
      v,
      backend,
      atRef?.dir ?? context,
      atRef?.git ?? (await gitInfo(root, context)),
      dryRun,
      progress,
    );
  } finally {
    if (atRef) await fs.remove(atRef.scratch);
  }
}

async function buildContext(
  v: Values,
  backend: string,
  context: string,
  git: { sha: string; epoch: number; dirty: boolean },
  dryRun: boolean,
  progress: Say,
): Promise<Result> {
  const recipe = await ensureBase(backend, dryRun, progress);
  const release =
    (v.release as string | undefined) ??
    releaseId(new Date(git.epoch * 1000), git.sha, git.dirty, v.app ? path.basename(context) : undefined);
  const tag = (v.tag as string | undefined) ?? `${APP_REPO}:${release}`;
  const cmd = buildArgv({
    context,
    noCache: v['no-cache'] === true,
    tag,
    release,
    gitSha: git.sha,
    sourceDateEpoch: git.epoch,
    builderImage: recipe.images.builder,
    runtimeImage: recipe.images.runtime,
  });
  if (dryRun) {
    echo(`DOCKER_BUILDKIT=0 ${cmd.join(' ')}`); // with --json too: the plan is the output
    return { code: 0 };
  }
  progress(`building ${tag}`);
  await $({ env: { ...process.env, DOCKER_BUILDKIT: '0' }, quiet: v.json === true })`${cmd}`;
  const size = Number((await $`docker image inspect --format {{.Size}} ${tag}`.quiet()).stdout.trim());
  const result = {
    image: tag,
    release,
    gitSha: git.sha,
    sizeBytes: size,
    sizeMB: Math.round(size / 1e5) / 10,
  };
  progress(`built ${tag}: ${result.sizeMB} MB`);
  return { code: 0, json: result };
}

async function main(inv: Invocation, ctx: Context, root: string): Promise<Result> {
  // "[1.2s] message", the time dim: not with --json, whose output is the result's one line.
  const progress: Say = (msg) => {
    if (!ctx.json) echo(chalk.dim(`[${(ctx.ms() / 1000).toFixed(1)}s]`), msg);
  };
  const dryRun = inv.values['dry-run'] === true;
  if (inv.command === 'base') {
    await ensureBase(path.join(root, 'backend'), dryRun, progress);
    return { code: 0 };
  }
  return build(inv.values, root, dryRun, progress);
}

export const imageCli: Cli = { spec: imageSpec, main };
