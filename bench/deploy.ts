// `npm run bench -- deploy`: against the converged twin, through Caddy, a steady bounded load
// (4 keep-alive workers on /healthz and 1 POSTing notes below the rate limit, none of them ever
// retrying) while N deploys and M rollbacks run. Prints failed requests (goal 0: transport
// errors, 5xx and unexpected statuses; 429s apart), each deploy's time with the image prebuilt,
// the rollbacks' times, the twin's peak resident memory and its OOM kills (1 GB limit).
// Needs: `npm run twin -- up` and `cd ansible && ansible-playbook setup.yml` first.
// Options: --deploys N (default 10), --rollbacks M (default 2: to the release before, warm, then
// back, parked), --cpu full,e2-micro (default both, in turn: the twin's CPU profiles, applied live;
// the twin is left at full), --svg FILE (default docs/deploy-latency.svg: latency per second).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as vega from 'vega';
import { compile } from 'vega-lite';
import { $, argv, echo, fs } from 'zx';
import { loadTarget } from '../scripts/lib/target.ts';
import { CPU_PROFILES, type CpuProfile, parseCpuProfile } from '../scripts/lib/twin/plan.ts';
import { changedBackend } from '../test/e2e/support/images.ts';
import { describeLoad, loadUntil, proxyClient } from '../test/e2e/support/proxy.ts';
import { twinConfig } from '../test/e2e/support/twin.ts';
import { deployJson } from './lib/deploy-cli.ts';
import { chartSpec, type Mark, perSecond, runsByStart } from './lib/latency.ts';

const root = join(import.meta.dirname, '..');
const deploys = Number(argv.deploys ?? 10);
const rollbacks = Number(argv.rollbacks ?? 2);
const target = loadTarget('twin', root);
const client = proxyClient(target.httpsUrl, target.domain);
const t0 = Date.now();
const step = (msg: string) => echo(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);

// The twin's memory cgroup on this host (cgroup v1: memory/docker/<id>). Its high-water mark
// counts page cache (image layers just loaded), so the figure that matters is sampled instead:
// resident anonymous memory (total_rss), plus the OOM-kill counter before and after.
const id = (await $`docker inspect --format {{.Id}} ${twinConfig().container}`).stdout.trim();
const cgroup = `/sys/fs/cgroup/memory/docker/${id}`;
const memStat = async () => {
  const text = await readFile(join(cgroup, 'memory.stat'), 'utf8').catch(() => '');
  const get = (k: string) => Number(new RegExp(`^${k} (\\d+)$`, 'm').exec(text)?.[1] ?? Number.NaN) / 2 ** 20;
  return { rssMb: get('total_rss'), cacheMb: get('total_cache') };
};
const oomKills = async () =>
  Number(
    /^oom_kill (\d+)$/m.exec(
      await readFile(join(cgroup, 'memory.oom_control'), 'utf8').catch(() => ''),
    )?.[1] ?? Number.NaN,
  );
let peakRssMb = 0;
let cacheAtPeakMb = 0;
const sampler = setInterval(async () => {
  const m = await memStat();
  if (m.rssMb > peakRssMb) [peakRssMb, cacheAtPeakMb] = [m.rssMb, m.cacheMb];
}, 250);

/** The steps' time until the proxy serves the target (through `verify`), in plan order. */
const untilServed = (stepTimes: Record<string, number> = {}) => {
  let ms = 0;
  for (const [id, t] of Object.entries(stepTimes)) {
    ms += t;
    if (id === 'verify') break;
  }
  return ms;
};

const deployCli = (...args: string[]) => deployJson(args);

const profiles = String(argv.cpu ?? 'full,e2-micro')
  .split(',')
  .map((p) => parseCpuProfile(p.trim(), '--cpu'));
step(
  `building ${deploys * profiles.length} releases, each a one-line code change (only the app layer differs)`,
);
const stamp = Date.now().toString(36);
const releases: string[] = [];
for (let i = 1; i <= deploys * profiles.length; i++) {
  const release = `bench-${stamp}-${i}`;
  const context = changedBackend(release);
  try {
    await $({
      cwd: root,
    })`zx scripts/image.mjs build --tag e2m/backend:${release} --release ${release} --context ${context} --json`;
  } finally {
    await fs.remove(context);
  }
  releases.push(release);
}

// One profile's run: the same sequence of deploys and rollbacks under the same load, the twin
// held at that CPU share by the twin's own `up --cpu` (applied live to the running container).
async function runAt(profile: CpuProfile, mine: string[]) {
  step(`CPU profile ${profile} (${CPU_PROFILES[profile]} CPUs)`);
  await $({ cwd: root })`zx scripts/twin.mjs up --cpu ${profile}`;
  peakRssMb = 0;
  cacheAtPeakMb = 0;
  const oomBefore = await oomKills();
  const idleRssMb = (await memStat()).rssMb;
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => {
    done = r;
  });
  const start = Date.now(); // before the first request: the chart's seconds start at 0
  const load = loadUntil(client, '/healthz', finished, {
    workers: 4,
    postWorkers: 1,
    maxRequests: 1_000_000,
    maxMs: 1_800_000,
    record: true,
  });
  const marks: Mark[] = [];
  const times = [];
  try {
    for (const release of mine) {
      step(`deploy ${release}`);
      marks.push({ at: Date.now(), label: `deploy ${mine.indexOf(release) + 1}` });
      const r = await deployCli('deploy', '--image', `e2m/backend:${release}`);
      times.push({
        what: `deploy ${release}`,
        ms: r.ms,
        shippedBytes: r.shipped?.bytes as number | undefined,
      });
    }
    // To the release before, then forward again to the last one, and so on: each is a rollback.
    // The first goes to the colour the last deploy left warm (just the switch) and parks the one
    // it leaves at once (--warm-for 0), so the second starts a parked colour: both figures.
    for (let i = 0; i < rollbacks; i++) {
      const to = (i % 2 === 0 ? mine.at(-2) : mine.at(-1)) ?? mine[0];
      step(`rollback to ${to}`);
      const t = Date.now();
      marks.push({ at: t, label: `rollback ${i + 1}` });
      const rb = await deployCli('rollback', to, ...(i === 0 ? ['--warm-for', '0'] : []));
      const kind = 'start' in (rb.stepTimes ?? {}) ? 'parked' : 'warm';
      times.push({
        what: `rollback ${to} (${kind}; serving it after ${(untilServed(rb.stepTimes) / 1000).toFixed(2)} s; command ${((Date.now() - t) / 1000).toFixed(2)} s)`,
        ms: rb.ms,
      });
    }
  } finally {
    done();
  }
  const result = await load;
  return {
    profile,
    start,
    marks,
    times,
    result,
    idleRssMb,
    peak: peakRssMb,
    cache: cacheAtPeakMb,
    ooms: (await oomKills()) - oomBefore,
  };
}

const runs: Awaited<ReturnType<typeof runAt>>[] = [];
try {
  for (const [i, profile] of profiles.entries())
    runs.push(await runAt(profile, releases.slice(i * deploys, (i + 1) * deploys)));
} finally {
  // The twin goes back to full CPU whatever happened, so the next command is not slowed by it.
  await $({ cwd: root, nothrow: true })`zx scripts/twin.mjs up --cpu full`;
  clearInterval(sampler);
  client.close();
}

for (const r of runs) {
  echo(
    `\ndeploy benchmark on the twin at CPU profile ${r.profile} (${CPU_PROFILES[r.profile]} CPUs; ${deploys} deploys, ${rollbacks} rollbacks; through Caddy, keep-alive, no retry: 4 workers GET /healthz, 1 POSTs /notes)`,
  );
  for (const t of r.times)
    echo(
      `  ${t.what.padEnd(40)} ${(t.ms / 1000).toFixed(1).padStart(6)} s of steps${'shippedBytes' in t && t.shippedBytes !== undefined ? ` (shipped ${(t.shippedBytes / 1e6).toFixed(2)} MB)` : ''}`,
    );
  echo(`  failed requests with no retry: ${r.result.failures.length} of ${r.result.total}`);
  echo(`  ${describeLoad(r.result)}`);
  const runs = runsByStart(r.result.samples);
  echo(`  releases by request start: ${runs.map((x) => x.release).join(' -> ')}`);
  // A run back to the release before, within a second of the new one's first answer: the proxy
  // still sent that request to the old colour; how long after the switch is what matters.
  for (const [i, x] of runs.entries()) {
    const before = runs[i - 2];
    const next = runs[i - 1];
    if (before?.release === x.release && x.lastAt - next.firstAt < 1000)
      echo(
        `    ${x.requests} request(s) started ${(x.firstAt - next.firstAt).toFixed(1)} to ${(x.lastAt - next.firstAt).toFixed(1)} ms after ${next.release} first answered went to ${x.release}`,
      );
  }
  echo(
    `  twin memory: resident ${r.idleRssMb.toFixed(0)} MB before, peak ${r.peak.toFixed(0)} MB during (page cache then ${r.cache.toFixed(0)} MB, reclaimable), limit 1024 MB`,
  );
  echo(`  OOM kills in the twin during the run: ${r.ooms}`);
}

// The picture in the README's deploy section: what the no-retry clients saw, per second.
const svgPath = String(argv.svg ?? join(root, 'docs', 'deploy-latency.svg'));
const label = (r: (typeof runs)[number]) => `${r.profile} (${CPU_PROFILES[r.profile]} CPUs)`;
const spec = chartSpec(
  runs.flatMap((r) => perSecond(label(r), r.result.samples, r.start)),
  runs.flatMap((r) => r.marks.map((m) => ({ ...m, run: label(r), second: (m.at - r.start) / 1000 }))),
);
const view = new vega.View(vega.parse(compile(spec as never).spec), { renderer: 'none' });
await fs.writeFile(svgPath, await view.toSVG());
echo(`latency per second (p50, p99, failures) drawn in ${svgPath}`);
echo('\nclean up with: npm run deploy -- cleanup --keep 2');
