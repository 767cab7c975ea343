import { createHash } from 'node:crypto';

// Pure planning for the backend image: names, tags and exact docker argv. No I/O here.

export const RUNTIME_REPO = 'e2m/runtime-base';
export const BUILDER_REPO = 'e2m/bun-builder';
export const APP_REPO = 'e2m/backend';

export type BaseInputs = {
  rootfsScript: string;
  packageVersions: Record<string, string>;
  bunVersion: string;
};

/** The bases are rebuilt only when their recipe changes: the script, Debian's versions, Bun's. */
export function baseRecipeHash(inputs: BaseInputs): string {
  const h = createHash('sha256');
  h.update(inputs.rootfsScript);
  for (const [name, version] of Object.entries(inputs.packageVersions).sort())
    h.update(`\n${name}=${version}`);
  h.update(`\nbun=${inputs.bunVersion}`);
  return h.digest('hex').slice(0, 12);
}

export function baseImages(hash: string) {
  return { runtime: `${RUNTIME_REPO}:${hash}`, builder: `${BUILDER_REPO}:${hash}` };
}

/** docker import of a rootfs tar, labelled with what it was built from. */
export function importArgv(tarPath: string, image: string, labels: Record<string, string>): string[] {
  const changes = Object.entries(labels).flatMap(([k, v]) => ['--change', `LABEL ${k}=${JSON.stringify(v)}`]);
  return ['docker', 'import', ...changes, tarPath, image];
}

export type BuildInputs = {
  context: string;
  tag: string;
  release: string;
  gitSha: string;
  sourceDateEpoch: number;
  builderImage: string;
  runtimeImage: string;
  /** Build every step again (the reproducibility check's second build must not reuse the first). */
  noCache?: boolean;
};

/** Why DIR cannot be built as an app (docs/app-contract.md), or undefined when it can. */
export function appDirProblem(dir: string, has: { dir: boolean; dockerfile: boolean }): string | undefined {
  if (!has.dir) return `--app ${dir}: no such directory`;
  if (!has.dockerfile)
    return `--app ${dir}: no Dockerfile there; an app brings its own image recipe (docs/app-contract.md)`;
  return undefined;
}

/** The app image build: the classic builder (BuildKit is not in Debian here), bases as build args. */
export function buildArgv(b: BuildInputs): string[] {
  return [
    'docker',
    'build',
    '--pull=false',
    ...(b.noCache ? ['--no-cache'] : []),
    '--build-arg',
    `BUILDER_IMAGE=${b.builderImage}`,
    '--build-arg',
    `RUNTIME_IMAGE=${b.runtimeImage}`,
    '--build-arg',
    `RELEASE=${b.release}`,
    '--build-arg',
    `GIT_SHA=${b.gitSha}`,
    '--build-arg',
    `SOURCE_DATE_EPOCH=${b.sourceDateEpoch}`,
    '--tag',
    b.tag,
    b.context,
  ];
}

/**
 * A release id that sorts by commit time and names the commit: 20261123T034900-1a2b3c4 (dirty
 * trees say so). An --app build adds the app's directory name, so its tag never takes the
 * backend's of the same commit: 20261123T034900-1a2b3c4-byo-bun.
 */
export function releaseId(commitTime: Date, gitSha: string, dirty: boolean, app?: string): string {
  const stamp = commitTime
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, '');
  const name = app?.toLowerCase().replace(/[^a-z0-9.-]+/g, '-');
  return `${stamp}-${gitSha.slice(0, 7)}${dirty ? '-dirty' : ''}${name ? `-${name}` : ''}`;
}
