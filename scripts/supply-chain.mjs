#!/usr/bin/env zx
// Supply chain checks (docs/supply-chain.md): `repro` builds the image twice from the commit and
// compares; `sbom` writes a release's CycloneDX SBOM beside its release record; `scan` checks the
// lockfiles and the image for known vulnerabilities against .ci/vuln-allowlist.yml.
// Thin: arguments in, pure decisions from lib/supply-chain/, processes run here.
import { createHash } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { createReadStream } from 'node:fs';
import { $, argv, chalk, echo, fs, path, tmpdir, YAML } from 'zx';
import {
  debianFindings,
  findingsFromOsv,
  judge,
  LEVELS,
  PolicyError,
  parsePolicy,
} from './lib/supply-chain/findings.ts';
import { compareBuilds, DOCKER_EXPORT_NOISE, reportLines, treeLine } from './lib/supply-chain/repro.ts';
import { bunProductionComponents, imageSbom, releaseSbomPath } from './lib/supply-chain/sbom.ts';

const root = path.resolve(import.meta.dirname, '..');
const USAGE = `Usage: npm run scan | npm run sbom | zx scripts/supply-chain.mjs <command> [options]

Commands:
  repro               build the image twice from HEAD (no cache) and compare layers, binary, files
  sbom                write the CycloneDX SBOM of an image to .releases/<release>/sbom.cdx.json
  scan                scan package-lock.json, backend/bun.lock and the image; exit 1 on a finding
                      at or above fail_at in .ci/vuln-allowlist.yml that is not allow-listed

Options:
  --image TAG         image for sbom/scan (default: build one with npm run image -- build)
  --out DIR           sbom: releases directory (default .releases); scan/repro: report directory
  --db DIR            scan: use this OSV database directory (osv-scanner/<ecosystem>/all.zip), offline
  --allow-no-data     scan: where no vulnerability data can be had, say so and exit 0 (else exit 3)
  --policy FILE       scan: allow-list and severity (default .ci/vuln-allowlist.yml)
  --releases-dir DIR  scan: where the image's SBOM is written (default .releases)
  --keep              repro: keep the two images (e2m/backend:repro-a, -b)
  --json              machine-readable result on the last line
  -h, --help          this help

Exit codes: 0 ok, 1 findings (scan) or a difference (repro), 2 usage, 3 no vulnerability data.`;

const t0 = Date.now();
const progress = (msg) => echo(`${chalk.dim(`[${((Date.now() - t0) / 1000).toFixed(1)}s]`)} ${msg}`);
const q = (strings, ...args) => $({ quiet: true })(strings, ...args);

const sha256File = (file) =>
  new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (d) => h.update(d))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });

/** Builds the image with the project's own script; returns its JSON result. */
async function buildImage(args) {
  const out = await $({ quiet: true, cwd: root })`zx scripts/image.mjs build --json ${args}`;
  return JSON.parse(out.stdout.trim().split('\n').pop());
}

async function imageInfo(image) {
  const [info] = JSON.parse((await q`docker image inspect ${image}`).stdout);
  return { id: info.Id, layers: info.RootFS.Layers, labels: info.Config.Labels ?? {} };
}

/** The exported file tree of an image, one sorted line per entry, and the binary's sha256. */
async function fileTree(image, work) {
  const dir = path.join(work, 'tree');
  await fs.mkdirp(dir);
  const cid = (await q`docker create ${image}`).stdout.trim();
  try {
    await $({ quiet: true })`docker export ${cid} | tar -x --numeric-owner --same-permissions -C ${dir}`;
  } finally {
    await q`docker rm ${cid}`;
  }
  const lines = [];
  const walk = async (rel) => {
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

async function repro() {
  const work = await fs.mkdtemp(path.join(tmpdir(), 'e2m-repro-'));
  try {
    // The commit, not the working tree: what a release is built from, and safe from edits under way.
    await $({ quiet: true, cwd: root })`git archive HEAD backend | tar -x -C ${work}`;
    const sha = (await q`git -C ${root} rev-parse HEAD`).stdout.trim();
    const builds = [];
    for (const side of ['a', 'b']) {
      const tag = `e2m/backend:repro-${side}`;
      progress(`build ${side}: ${tag} from ${sha.slice(0, 7)} (no cache)`);
      await buildImage([
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
      echo(chalk.red('the two builds have the same image id: the second came from the cache'));
      return 1;
    }
    for (const line of reportLines(report, a, b)) echo(line);

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
    echo(
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
    if (argv.out) {
      await fs.mkdirp(argv.out);
      await fs.writeJson(
        path.join(argv.out, 'repro.json'),
        { ...result, treeA: a.tree, treeB: b.tree },
        { spaces: 2 },
      );
    }
    if (argv.json) echo(JSON.stringify(result));
    if (!argv.keep) await q`docker rmi ${a.image} ${b.image}`.nothrow();
    return report.ok && baseOk ? 0 : 1;
  } finally {
    await fs.remove(work);
  }
}

/** What the SBOM and the Debian check need to know about an image. */
async function imageFacts(image) {
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
async function writeReleaseSbom(image, releasesDir = path.join(root, '.releases')) {
  const facts = await imageFacts(image);
  const npm = bunProductionComponents(await fs.readFile(path.join(root, 'backend/bun.lock'), 'utf8'));
  const file = releaseSbomPath(releasesDir, facts.release);
  await fs.mkdirp(path.dirname(file));
  await fs.writeFile(file, `${JSON.stringify(imageSbom(facts, npm), null, 2)}\n`);
  return { file, facts, components: npm.length + 1 + facts.debian.length };
}

async function resolveImage() {
  if (argv.image) return argv.image;
  progress('building the image (npm run image -- build)');
  return (await buildImage([])).image;
}

async function sbom() {
  const image = await resolveImage();
  const r = await writeReleaseSbom(image, path.resolve(argv.out ?? path.join(root, '.releases')));
  progress(`SBOM of ${image}: ${r.components} components -> ${path.relative(process.cwd(), r.file)}`);
  if (argv.json)
    echo(JSON.stringify({ image, file: r.file, components: r.components, release: r.facts.release }));
  return 0;
}

const OSV_HOSTS = ['api.osv.dev', 'osv-vulnerabilities.storage.googleapis.com'];
const reachable = async (host) =>
  Promise.race([
    lookup(host).then(
      () => true,
      () => false,
    ),
    new Promise((r) => setTimeout(() => r(false), 3000)),
  ]);

/** The newest version of a Debian package apt offers, and from where (security archive included). */
async function aptCandidate(name) {
  const r = await q`apt-cache policy ${name}`.nothrow();
  const version = /Candidate: (\S+)/.exec(r.stdout)?.[1];
  if (!version || version === '(none)') return undefined;
  const block = r.stdout.split('\n');
  const i = block.findIndex((l) => l.trim().startsWith(version) || l.includes(` ${version} `));
  const origin =
    block
      .slice(i + 1, i + 3)
      .join(' ')
      .match(/\S+\s+(bookworm[\w-]*)\//)?.[1] ?? 'apt';
  return { version, origin: `Debian ${origin}` };
}

async function scan() {
  const policyFile = path.resolve(argv.policy ?? path.join(root, '.ci/vuln-allowlist.yml'));
  let policy;
  try {
    policy = parsePolicy(YAML.parse(await fs.readFile(policyFile, 'utf8')));
  } catch (e) {
    echo(chalk.red(`${path.relative(root, policyFile)}: ${e.message}`));
    return e instanceof PolicyError ? 2 : 1;
  }
  const osv = (await q`which osv-scanner`.nothrow()).stdout.trim();
  if (!osv) {
    echo(chalk.red('osv-scanner not found: bash .ci/install.sh (install step 35-scanners) builds it'));
    return 1;
  }
  const image = await resolveImage();
  const facts = await imageFacts(image);
  const releasesDir = path.resolve(argv['releases-dir'] ?? path.join(root, '.releases'));
  const { file: sbomFile } = await writeReleaseSbom(image, releasesDir);
  progress(`image ${image}: SBOM ${path.relative(root, sbomFile)}`);

  // Vulnerability data: a given database (tests, mirrors), else OSV online, else OSV's offline
  // archives downloaded into the cache. Where none can be had the scan says so: never "0 found".
  let mode;
  let dbArgs;
  if (argv.db) {
    mode = `local OSV database ${argv.db}`;
    dbArgs = ['--offline-vulnerabilities', '--local-db-path', path.resolve(argv.db)];
  } else if (await reachable(OSV_HOSTS[0])) {
    mode = 'OSV API (online)';
    dbArgs = [];
  } else if (await reachable(OSV_HOSTS[1])) {
    mode = 'OSV offline archives (downloaded)';
    dbArgs = [
      '--offline-vulnerabilities',
      '--download-offline-databases',
      '--local-db-path',
      path.join(process.env.E2M_CACHE ?? tmpdir(), 'osv-db'),
    ];
  }
  const lockfiles = ['package-lock.json', 'backend/bun.lock'];
  const targets = [...lockfiles.map((f) => path.join(root, f)), sbomFile];
  let findings = [];
  let noData = null;
  if (!dbArgs) {
    noData = `no vulnerability data reachable: ${OSV_HOSTS.join(' and ')} do not resolve from here`;
  } else {
    progress(`osv-scanner (${mode}): ${lockfiles.join(', ')}, image SBOM`);
    const r = await $({
      quiet: true,
      nothrow: true,
      cwd: root,
    })`${osv} scan source --format json ${dbArgs} ${targets.flatMap((t) => ['-L', t])}`;
    // osv-scanner reports a database it could not load on stderr and then "0 found" for those
    // packages: that is no data, not a clean result, and is said so.
    const missing = [...r.stderr.matchAll(/could not load db for (\S+) ecosystem/g)].map((m) => m[1]);
    const offline = /error when retrieving vulns[^\n]*/i.exec(r.stderr)?.[0];
    if (offline || ![0, 1].includes(r.exitCode)) {
      noData = `osv-scanner got no vulnerability data (exit ${r.exitCode}): ${offline ?? r.stderr.trim().split('\n').pop()}`;
    } else {
      if (missing.length)
        noData = `no vulnerability data for ${[...new Set(missing)].join(', ')} (osv-scanner could not load it)`;
      findings = findingsFromOsv(JSON.parse(r.stdout), root).map((f) =>
        f.source.endsWith('sbom.cdx.json') ? { ...f, source: 'image' } : f,
      );
    }
  }
  // Debian's packages in the image against what apt offers now (the security archive included).
  const available = {};
  for (const d of facts.debian) available[d.name] = await aptCandidate(d.name);
  const debian = debianFindings(facts.debian, available, policy.failAt);
  for (const d of facts.debian)
    progress(
      `debian ${d.name} ${d.version} in the image; apt offers ${available[d.name]?.version ?? 'nothing'} (${available[d.name]?.origin ?? '-'})`,
    );
  findings.push(...debian);

  const today = new Date().toISOString().slice(0, 10);
  const v = judge(findings, policy, today);
  const counts = Object.fromEntries(LEVELS.map((l) => [l, findings.filter((f) => f.level === l).length]));
  for (const f of findings) {
    const tag = v.failing.includes(f)
      ? chalk.red('FAIL ')
      : v.allowed.some((a) => a.finding === f)
        ? chalk.yellow('allow')
        : 'below';
    echo(
      `${tag} ${f.level.padEnd(8)} ${f.id.padEnd(22)} ${f.package}@${f.version} (${f.source}) ${f.summary}`,
    );
  }
  for (const e of v.expired)
    echo(chalk.red(`allow-list entry ${e.id} expired on ${e.expires}: fix it or renew it with a reason`));
  for (const e of v.unused)
    echo(chalk.dim(`allow-list entry ${e.id} matched nothing (remove it once fixed)`));
  const summary = {
    image,
    sbom: path.relative(root, sbomFile),
    data: noData ? null : mode,
    noData,
    failAt: policy.failAt,
    counts,
    failing: v.failing.length,
    allowed: v.allowed.length,
    below: v.below.length,
    debianChecked: facts.debian.length,
  };
  if (argv.out) {
    await fs.mkdirp(argv.out);
    await fs.writeJson(path.join(argv.out, 'scan.json'), { ...summary, findings }, { spaces: 2 });
  }
  echo(
    `scan${noData ? ' (no vulnerability data: Debian check only)' : ''}: ${findings.length} findings (${LEVELS.map((l) => `${counts[l]} ${l}`).join(', ')}); ${v.failing.length} at or above ${policy.failAt} not allow-listed, ${v.allowed.length} allow-listed`,
  );
  if (noData) echo(chalk.yellow(`scan: ${noData}; only the Debian check ran`));
  if (argv.json) echo(JSON.stringify(summary));
  if (v.failing.length) return 1;
  if (noData) return argv['allow-no-data'] ? 0 : 3;
  return 0;
}

const [command] = argv._;
if (argv.help || argv.h || !command) {
  echo(USAGE);
  process.exit(command || argv.help || argv.h ? 0 : 2);
}
const commands = { repro, sbom, scan };
if (!commands[command]) {
  echo(`unknown command: ${command}\n\n${USAGE}`);
  process.exit(2);
}
process.exit(await commands[command]());
