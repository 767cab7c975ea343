#!/usr/bin/env zx
// Builds the backend image locally: `base` makes the two Debian-built bases (cached by recipe),
// `build` makes the app image on them. Thin: arguments in, plan from lib/image/plan.ts, run, print.
import { readFile } from 'node:fs/promises';
import { $, argv, chalk, echo, fs, path, tmpdir } from 'zx';
import {
  APP_REPO,
  appDirProblem,
  baseImages,
  baseRecipeHash,
  buildArgv,
  importArgv,
  releaseId,
} from './lib/image/plan.ts';

const USAGE = `Usage: npm run image -- <command> [options]

Commands:
  base            build the runtime and builder bases from Debian's packages (skipped when cached)
  build           build the app image (builds the bases first if needed)

Options:
  --tag TAG       image tag for build (default ${APP_REPO}:<release>)
  --release ID    release id baked into the image (default: from the git commit)
  --app DIR       build DIR's Dockerfile instead of backend/: your own app, meeting the
                  contract in docs/app-contract.md (example: examples/byo-bun). The bases are
                  passed as BUILDER_IMAGE and RUNTIME_IMAGE build args; the tag stays
                  ${APP_REPO}:<release> so deploy, rollback and retention see it
  --context DIR   the same as --app (the reproducibility check passes an export of the commit)
  --no-cache      rebuild every step
  --dry-run       print the plan, change nothing
  --json          machine-readable result
  -h, --help      this help`;

const root = path.resolve(import.meta.dirname, '..');
const backend = path.join(root, 'backend');
const t0 = Date.now();
const progress = (msg) => argv.json || echo(chalk.dim(`[${((Date.now() - t0) / 1000).toFixed(1)}s]`), msg);

async function baseRecipe() {
  const rootfsScript = await readFile(path.join(backend, 'image/rootfs.sh'), 'utf8');
  const packageVersions = {};
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

const imageExists = async (image) =>
  (await $`docker image inspect ${image}`.quiet().nothrow()).exitCode === 0;

async function ensureBase(dryRun) {
  const recipe = await baseRecipe();
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

async function gitInfo(context) {
  const sha = (await $`git -C ${root} rev-parse HEAD`.quiet().nothrow()).stdout.trim() || 'unknown';
  const epoch = Number((await $`git -C ${root} log -1 --format=%ct`.quiet().nothrow()).stdout.trim()) || 0;
  const dirty =
    (await $`git -C ${root} status --porcelain -- ${context}`.quiet().nothrow()).stdout.trim() !== '';
  return { sha, epoch, dirty };
}

async function build(dryRun) {
  const dir = argv.app ?? argv.context;
  const context = dir ? path.resolve(String(dir)) : backend;
  const problem = appDirProblem(String(dir ?? 'backend'), {
    dir: fs.existsSync(context) && fs.statSync(context).isDirectory(),
    dockerfile: fs.existsSync(path.join(context, 'Dockerfile')),
  });
  if (problem) {
    echo(chalk.red(problem));
    process.exit(2);
  }
  const recipe = await ensureBase(dryRun);
  const git = await gitInfo(context);
  const release =
    argv.release ??
    releaseId(new Date(git.epoch * 1000), git.sha, git.dirty, argv.app ? path.basename(context) : undefined);
  const tag = argv.tag ?? `${APP_REPO}:${release}`;
  const cmd = buildArgv({
    context,
    noCache: argv.cache === false, // minimist reads --no-cache as cache: false
    tag,
    release,
    gitSha: git.sha,
    sourceDateEpoch: git.epoch,
    builderImage: recipe.images.builder,
    runtimeImage: recipe.images.runtime,
  });
  if (dryRun) return echo(`DOCKER_BUILDKIT=0 ${cmd.join(' ')}`);
  progress(`building ${tag}`);
  await $({ env: { ...process.env, DOCKER_BUILDKIT: '0' }, quiet: !!argv.json })`${cmd}`;
  const size = Number((await $`docker image inspect --format {{.Size}} ${tag}`.quiet()).stdout.trim());
  const result = {
    image: tag,
    release,
    gitSha: git.sha,
    sizeBytes: size,
    sizeMB: Math.round(size / 1e5) / 10,
  };
  if (argv.json) echo(JSON.stringify(result));
  else progress(`built ${tag}: ${result.sizeMB} MB`);
}

const [command] = argv._;
if (argv.help || argv.h || !command) {
  echo(USAGE);
  process.exit(command || argv.help || argv.h ? 0 : 2);
}
const dryRun = Boolean(argv['dry-run']);
if (command === 'base') await ensureBase(dryRun);
else if (command === 'build') await build(dryRun);
else {
  echo(`unknown command: ${command}\n\n${USAGE}`);
  process.exit(2);
}
