// The supply chain commands (docs/supply-chain.md), each returning a Result: `repro` builds the
// image twice from the commit and compares; `sbom` writes a release's CycloneDX SBOM beside its
// release record; `scan` checks the lockfiles and the image against .ci/vuln-allowlist.yml.
// Their report lines are printed with --json too (the suite keeps them as its log): the JSON
// object is the last line. Decisions are pure in findings.ts, repro.ts, sbom.ts and scan.ts.
import { createHash } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { createReadStream } from 'node:fs';
import { $, chalk, echo, fs, path, tmpdir, YAML } from 'zx';
import type { Invocation, Values } from '../cli/args.ts';
import type { Context, Result } from '../cli/context.ts';
import type { Cli } from '../cli/run.ts';
import {
  debianFindings,
  type Finding,
  findingsFromOsv,
  judge,
  PolicyError,
  parsePolicy,
} from './findings.ts';
import { compareBuilds, DOCKER_EXPORT_NOISE, reportLines, treeLine } from './repro.ts';
import { bunProductionComponents, imageSbom, releaseSbomPath } from './sbom.ts';
import { aptCandidate, countByLevel, findingLines, osvOutcome, scanExitCode, summaryLine } from './scan.ts';
import { supplyChainSpec } from './spec.ts';

/** What every command reaches: the repository, the options, and the log (printed with --json too). */
interface Run {
  root: string;
  v: Values;
  say(line: string): void;
  progress(msg: string): void;
}

const str = (v: Values, key: string) => v[key] as string | undefined;
const q = (strings: TemplateStringsArray, ...args: unknown[]) => $({ quiet: true })(strings, ...args);

const sha256File = (file: string) =>
  new Promise<string>((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (d) => h.update(d))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });

/** Builds the image with the project's own script; returns its JSON result. */
async function buildImage(root: string, args: string[]): Promise<{ image: string }> {
  const out = await $({ quiet: true, cwd: root })`zx scripts/image.mjs build --json ${args}`;
  return JSON.parse(out.stdout.trim().split('\n').pop() ?? '{}');
}

async function imageInfo(image: string) {
  const [info] = JSON.parse((await q`docker image inspect ${image}`).stdout);
  return {
    id: info.Id as string,
    layers: info.RootFS.Layers as string[],
    labels: (info.Config.Labels ?? {}) as Record<string, string>,
  };
}

/** The exported file tree of an image, one sorted line per entry, and the binary's sha256. */
async function fileTree(image: string, work: string) {
  const dir = path.join(work, 'tree');
  await fs.mkdirp(dir);
  const cid = (await q`docker create ${image}`).stdout.trim();
  try {
    await $({ quiet: true })`docker export ${cid} | tar -x --numeric-owner --same-permissions -C ${dir}`;
  } finally {
    await q`docker rm ${cid}`;
  }
  const lines: string[] = [];
  const walk = async (rel: string) => {
    for (const name of (await fs.readdir(path.join(dir, rel))).sort()) {
      const p = `${rel}/${name}`;
      if (DOCKER_EXPORT_NOISE.has(p)) continue;
      const st = await fs.lstat(path.join(dir, p));
      const base = { path: p, mode: st.mode, uid: st.uid, gid: st.gid };
      if (st.isSymbolicLink())
        lines.push(treeLine({ ...base, type: 'symlink', linkTarget: await fs.readlink(path.join(dir, p)) }));
      else if (st.isDirectory()) {
        lines.push(treeLine({ ...base, type: 'dir' }));
        await walk(p);
      } else if (st.isFile())
        lines.push(treeLine({ ...base, type: 'file', sha256: await sha256File(path.join(dir, p)) }));
      else lines.push(treeLine({ ...base, type: 'other' }));
    }
  };
  await walk('');
  const binarySha256 = await sha256File(path.join(dir, 'app/server'));
  await fs.remove(dir);
  return { tree: lines.sort(), binarySha256 };
}

async function repro(r: Run): Promise<Result> {
  const { root, v } = r;
  const work = await fs.mkdtemp(path.join(tmpdir(), 'e2m-repro-'));
  try {
    // The commit, not the working tree: what a release is built from, and safe from edits under way.
    await $({ quiet: true, cwd: root })`git archive HEAD backend | tar -x -C ${work}`;
    const sha = (await q`git -C ${root} rev-parse HEAD`).stdout.trim();
    const builds = [];
    for (const side of ['a', 'b']) {
      const tag = `e2m/backend:repro-${side}`;
      r.progress(`build ${side}: ${tag} from ${sha.slice(0, 7)} (no cache)`);
      await buildImage(root, [
        '--context',
        path.join(work, 'backend'),
        '--tag',
        tag,
        '--release',
        `repro-${sha.slice(0, 7)}`,
        '--no-cache',
      ]);
      const info = await imageInfo(tag);
      builds.push({
        image: tag,
        id: info.id,
        layers: info.layers,
        labels: info.labels,
        ...(await fileTree(tag, work)),
      });
    }
    const [a, b] = builds;
    const report = compareBuilds(a, b);
    // The classic builder writes build times into the config: equal ids mean the second build
    // came from the cache, and then the comparison proves nothing.
    if (report.idEqual) {
      r.say(chalk.red('the two builds have the same image id: the second came from the cache'));
      return { code: 1 };
    }
    for (const line of reportLines(report, a, b)) r.say(line);

    // The base: its rootfs rebuilt from the recipe must be the very layer the image starts with.
    const runtime = `e2m/runtime-base:${a.labels['org.opencontainers.image.base.recipe']}`;
    const tar = path.join(work, 'runtime.tar');
    await $({
      quiet: true,
      env: { ...process.env, SOURCE_DATE_EPOCH: '0' },
    })`bash ${path.join(root, 'backend/image/rootfs.sh')} ${tar}`;
    const rebuilt = `sha256:${await sha256File(tar)}`;
    const baseLayer = (await imageInfo(runtime)).layers[0];
    const baseOk = rebuilt === baseLayer && a.layers[0] === baseLayer;
    r.say(
      `runtime base ${runtime} rebuilt from its recipe: ${baseOk ? 'same layer' : 'DIFFERENT'} ${rebuilt.slice(7, 19)}${baseOk ? '' : ` vs ${baseLayer.slice(7, 19)}`}`,
    );
    const result = {
      commit: sha,
      ...report,
      baseOk,
      layers: a.layers,
      binarySha256: a.binarySha256,
      entries: a.tree.length,
    };
    const out = str(v, 'out');
    if (out) {
      await fs.mkdirp(out);
      await fs.writeJson(
        path.join(out, 'repro.json'),
        { ...result, treeA: a.tree, treeB: b.tree },
        { spaces: 2 },
      );
    }
    if (!v.keep) await q`docker rmi ${a.image} ${b.image}`.nothrow();
    return { code: report.ok && baseOk ? 0 : 1, json: result };
  } finally {
    await fs.remove(work);
  }
}

/** What the SBOM and the Debian check need to know about an image. */
async function imageFacts(root: string, image: string) {
  const info = await imageInfo(image);
  const work = await fs.mkdtemp(path.join(tmpdir(), 'e2m-sbom-'));
  try {
    const cid = (await q`docker create ${image}`).stdout.trim();
    try {
      await q`docker cp ${`${cid}:/app/server`} ${path.join(work, 'server')}`;
    } finally {
      await q`docker rm ${cid}`;
    }
    const L = info.labels;
    const epoch = Number(
      (
        await q`git -C ${root} log -1 --format=%ct ${L['org.opencontainers.image.revision'] ?? 'HEAD'}`.nothrow()
      ).stdout.trim(),
    );
    return {
      image,
      release: L['org.opencontainers.image.version'] ?? 'unknown',
      gitSha: L['org.opencontainers.image.revision'] ?? 'unknown',
      binarySha256: await sha256File(path.join(work, 'server')),
      bunVersion: L.bun ?? 'unknown',
      debian: ['libc6', 'ca-certificates'].filter((n) => L[n]).map((name) => ({ name, version: L[name] })),
      timestamp: new Date((Number.isFinite(epoch) && epoch > 0 ? epoch : 0) * 1000).toISOString(),
    };
  } finally {
    await fs.remove(work);
  }
}

/**
 * The release's SBOM, written beside its release record: `<releasesDir>/<release>/sbom.cdx.json`.
 * The deploy gets it with `zx scripts/supply-chain.mjs sbom --image TAG --out DIR --json`.
 */
async function writeReleaseSbom(root: string, image: string, releasesDir: string) {
  const facts = await imageFacts(root, image);
  const npm = bunProductionComponents(await fs.readFile(path.join(root, 'backend/bun.lock'), 'utf8'));
  const file = releaseSbomPath(releasesDir, facts.release);
  await fs.mkdirp(path.dirname(file));
  await fs.writeFile(file, `${JSON.stringify(imageSbom(facts, npm), null, 2)}\n`);
  return { file, facts, components: npm.length + 1 + facts.debian.length };
}

async function resolveImage(r: Run): Promise<string> {
  const image = str(r.v, 'image');
  if (image) return image;
  r.progress('building the image (npm run image -- build)');
  return (await buildImage(r.root, [])).image;
}

async function sbom(r: Run): Promise<Result> {
  const image = await resolveImage(r);
  const w = await writeReleaseSbom(
    r.root,
    image,
    path.resolve(str(r.v, 'out') ?? path.join(r.root, '.releases')),
  );
  r.progress(`SBOM of ${image}: ${w.components} components -> ${path.relative(process.cwd(), w.file)}`);
  return { code: 0, json: { image, file: w.file, components: w.components, release: w.facts.release } };
}

const OSV_HOSTS = ['api.osv.dev', 'osv-vulnerabilities.storage.googleapis.com'];
const reachable = async (host: string) =>
  Promise.race([
    lookup(host).then(
      () => true,
      () => false,
    ),
    new Promise<boolean>((res) => setTimeout(() => res(false), 3000)),
  ]);

/** Vulnerability data: a given database (tests, mirrors), else OSV online, else OSV's offline archives. */
async function osvSource(db: string | undefined): Promise<{ mode: string; dbArgs: string[] } | undefined> {
  if (db)
    return {
      mode: `local OSV database ${db}`,
      dbArgs: ['--offline-vulnerabilities', '--local-db-path', path.resolve(db)],
    };
  if (await reachable(OSV_HOSTS[0])) return { mode: 'OSV API (online)', dbArgs: [] };
  if (await reachable(OSV_HOSTS[1]))
    return {
      mode: 'OSV offline archives (downloaded)',
      dbArgs: [
        '--offline-vulnerabilities',
        '--download-offline-databases',
        '--local-db-path',
        path.join(process.env.E2M_CACHE ?? tmpdir(), 'osv-db'),
      ],
    };
  return undefined;
}

async function scan(r: Run): Promise<Result> {
  const { root, v } = r;
  const policyFile = path.resolve(str(v, 'policy') ?? path.join(root, '.ci/vuln-allowlist.yml'));
  let policy: ReturnType<typeof parsePolicy>;
  try {
    policy = parsePolicy(YAML.parse(await fs.readFile(policyFile, 'utf8')));
  } catch (e) {
    r.say(chalk.red(`${path.relative(root, policyFile)}: ${(e as Error).message}`));
    return { code: e instanceof PolicyError ? 2 : 1 };
  }
  const osv = (await q`which osv-scanner`.nothrow()).stdout.trim();
  if (!osv) {
    r.say(chalk.red('osv-scanner not found: bash .ci/install.sh (install step 35-scanners) builds it'));
    return { code: 1 };
  }
  const image = await resolveImage(r);
  const facts = await imageFacts(root, image);
  const releasesDir = path.resolve(str(v, 'releases-dir') ?? path.join(root, '.releases'));
  const { file: sbomFile } = await writeReleaseSbom(root, image, releasesDir);
  r.progress(`image ${image}: SBOM ${path.relative(root, sbomFile)}`);

  // Where no vulnerability data can be had the scan says so: never "0 found".
  const source = await osvSource(str(v, 'db'));
  const lockfiles = ['package-lock.json', 'backend/bun.lock'];
  const targets = [...lockfiles.map((f) => path.join(root, f)), sbomFile];
  let findings: Finding[] = [];
  let noData: string | null = null;
  if (!source) {
    noData = `no vulnerability data reachable: ${OSV_HOSTS.join(' and ')} do not resolve from here`;
  } else {
    r.progress(`osv-scanner (${source.mode}): ${lockfiles.join(', ')}, image SBOM`);
    const o = await $({
      quiet: true,
      nothrow: true,
      cwd: root,
    })`${osv} scan source --format json ${source.dbArgs} ${targets.flatMap((t) => ['-L', t])}`;
    const outcome = osvOutcome(o.stderr, o.exitCode);
    noData = outcome.noData ?? null;
    if (outcome.data)
      findings = findingsFromOsv(JSON.parse(o.stdout), root).map((f) =>
        f.source.endsWith('sbom.cdx.json') ? { ...f, source: 'image' } : f,
      );
  }
  // Debian's packages in the image against what apt offers now (the security archive included).
  const available: Record<string, ReturnType<typeof aptCandidate>> = {};
  for (const d of facts.debian)
    available[d.name] = aptCandidate((await q`apt-cache policy ${d.name}`.nothrow()).stdout);
  const debian = debianFindings(facts.debian, available, policy.failAt);
  for (const d of facts.debian)
    r.progress(
      `debian ${d.name} ${d.version} in the image; apt offers ${available[d.name]?.version ?? 'nothing'} (${available[d.name]?.origin ?? '-'})`,
    );
  findings.push(...debian);

  const verdict = judge(findings, policy, new Date().toISOString().slice(0, 10));
  const paint = { FAIL: chalk.red('FAIL '), allow: chalk.yellow('allow'), below: 'below' };
  for (const f of findingLines(findings, verdict)) r.say(`${paint[f.tag]} ${f.line}`);
  for (const e of verdict.expired)
    r.say(chalk.red(`allow-list entry ${e.id} expired on ${e.expires}: fix it or renew it with a reason`));
  for (const e of verdict.unused)
    r.say(chalk.dim(`allow-list entry ${e.id} matched nothing (remove it once fixed)`));
  const summary = {
    image,
    sbom: path.relative(root, sbomFile),
    data: noData ? null : source?.mode,
    noData,
    failAt: policy.failAt,
    counts: countByLevel(findings),
    failing: verdict.failing.length,
    allowed: verdict.allowed.length,
    below: verdict.below.length,
    debianChecked: facts.debian.length,
  };
  const out = str(v, 'out');
  if (out) {
    await fs.mkdirp(out);
    await fs.writeJson(path.join(out, 'scan.json'), { ...summary, findings }, { spaces: 2 });
  }
  r.say(summaryLine(findings, verdict, policy, noData));
  if (noData) r.say(chalk.yellow(`scan: ${noData}; only the Debian check ran`));
  return { code: scanExitCode(verdict.failing.length, noData, v['allow-no-data'] === true), json: summary };
}

const commands: Record<string, (r: Run) => Promise<Result>> = { repro, sbom, scan };

export const supplyChainCli: Cli = {
  spec: supplyChainSpec,
  main: (inv: Invocation, ctx: Context, root: string) =>
    commands[inv.command]({
      root,
      v: inv.values,
      say: (line) => echo(line),
      progress: (msg) => echo(`${chalk.dim(`[${ctx.elapsed()}]`)} ${msg}`),
    }),
};
