// `npm run bench -- deploy`: against the converged twin, through Caddy, a steady bounded load
// (4 keep-alive workers on /healthz and 1 POSTing notes below the rate limit, none of them ever
// retrying) while N deploys and M rollbacks run. Prints failed requests (goal 0: transport
// errors, 5xx and unexpected statuses; 429s apart), each deploy's time with the image prebuilt,
// the rollbacks' times, the twin's peak resident memory and its OOM kills (1 GB limit).
// Needs: `npm run twin -- up` and `cd ansible && ansible-playbook setup.yml` first.
// Options: --deploys N (default 10), --rollbacks M (default 2: to the release before, warm, then
// back, parked).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { $, argv, echo } from 'zx';
import { loadTarget } from '../scripts/lib/target.ts';
import { describeLoad, loadUntil, proxyClient } from '../test/e2e/support/proxy.ts';
import { twinConfig } from '../test/e2e/support/twin.ts';

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

const deployCli = async (...args: string[]) => {
  const r = await $({ cwd: root, nothrow: true })`zx scripts/deploy.mjs ${args} --json`;
  const last = JSON.parse(r.stdout.trim().split('\n').pop() || '{}');
  if (r.exitCode !== 0) throw new Error(`deploy ${args.join(' ')} failed: ${last.error ?? r.stdout}`);
  return last;
};

step(`building ${deploys} releases (cached layers: only the release differs)`);
const stamp = Date.now().toString(36);
const releases = [];
for (let i = 1; i <= deploys; i++) {
  const release = `bench-${stamp}-${i}`;
  await $({ cwd: root })`zx scripts/image.mjs build --tag e2m/backend:${release} --release ${release} --json`;
  releases.push(release);
}

const oomBefore = await oomKills();
const idleRssMb = (await memStat()).rssMb;
let done: () => void = () => {};
const finished = new Promise<void>((r) => {
  done = r;
});
const load = loadUntil(client, '/healthz', finished, {
  workers: 4,
  postWorkers: 1,
  maxRequests: 1_000_000,
  maxMs: 1_800_000,
});
const times = [];
try {
  for (const release of releases) {
    step(`deploy ${release}`);
    const r = await deployCli('deploy', '--image', `e2m/backend:${release}`);
    times.push({ what: `deploy ${release}`, ms: r.ms, shipped: 'upload' in (r.stepTimes ?? {}) });
  }
  // To the release before, then forward again to the last one, and so on: each is a rollback.
  // The first goes to the colour the last deploy left warm (just the switch) and parks the one it
  // leaves at once (--warm-for 0), so the second starts a parked colour: both figures, each run.
  for (let i = 0; i < rollbacks; i++) {
    const to = (i % 2 === 0 ? releases.at(-2) : releases.at(-1)) ?? releases[0];
    step(`rollback to ${to}`);
    const t = Date.now();
    const rb = await deployCli('rollback', to, ...(i === 0 ? ['--warm-for', '0'] : []));
    const kind = 'start' in (rb.stepTimes ?? {}) ? 'parked' : 'warm';
    times.push({
      what: `rollback ${to} (${kind}; command ${((Date.now() - t) / 1000).toFixed(2)} s)`,
      ms: rb.ms,
    });
  }
} finally {
  done();
}
const result = await load;
clearInterval(sampler);
client.close();

echo(
  `\ndeploy benchmark on the twin (${deploys} deploys, ${rollbacks} rollbacks; through Caddy, keep-alive, no retry: 4 workers GET /healthz, 1 POSTs /notes)`,
);
for (const t of times)
  echo(
    `  ${t.what.padEnd(40)} ${(t.ms / 1000).toFixed(1).padStart(6)} s${t.shipped ? ' (image shipped)' : ''}`,
  );
echo(`  failed requests with no retry: ${result.failures.length} of ${result.total}`);
echo(`  ${describeLoad(result)}`);
echo(
  `  twin memory: resident ${idleRssMb.toFixed(0)} MB before, peak ${peakRssMb.toFixed(0)} MB during (page cache then ${cacheAtPeakMb.toFixed(0)} MB, reclaimable), limit 1024 MB`,
);
echo(`  OOM kills in the twin during the run: ${(await oomKills()) - oomBefore}`);
echo('\nclean up with: npm run deploy -- cleanup --keep 2');
