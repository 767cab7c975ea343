// `npm run bench -- pitr-twin`: point-in-time recovery's RPO as a lost VM would show it. On the
// converged twin with the app deployed (`npm run rehearse`): a base dump (`backup run`), then a
// client POSTs a note through Caddy every --interval ms (default 600: under the app's 120 a
// minute) and keeps the time each 201 came back; the VM's own e2m-binlog.timer ships each
// minute; after --minutes (default 3) and a random part of the next minute the twin is killed
// (`docker kill`: every process at once, no shutdown). A fresh twin is brought up and converged
// (the GCS emulator, the bucket's stand-in, lives in its own container and keeps the objects), and
// `backup restore --to-time latest` replays into its scratch database.
// Prints: seconds of acknowledged writes lost (RPO, goal <= 60) and how many, any hole before the
// newest restored write (must be none), and the recovery's times: twin up, converge, restore.
// Leaves a fresh converged twin with nothing deployed (`npm run deploy` serves the app again).
import { join } from 'node:path';
import { $, argv, echo } from 'zx';
import { SshRunner } from '../scripts/lib/runner.ts';
import { loadTarget } from '../scripts/lib/target.ts';
import { proxyClient } from '../test/e2e/support/proxy.ts';
import { twinConfig } from '../test/e2e/support/twin.ts';

const root = join(import.meta.dirname, '..');
const interval = Number(argv.interval ?? 600);
const minutes = Number(argv.minutes ?? 3);
if (!(interval >= 500) || !(minutes >= 1 && minutes <= 30))
  throw new Error('--interval must be at least 500 ms (the rate limit) and --minutes 1..30');
const t0 = Date.now();
const step = (msg: string) => echo(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const zx = (script: string, ...args: string[]) =>
  $({ cwd: root, nothrow: true })`zx ${join('scripts', script)} ${args}`;
const timed = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
  const t = Date.now();
  const r = await f();
  return [r, (Date.now() - t) / 1000];
};

const cfg = twinConfig();
let target = loadTarget('twin', root);
const run = Date.now().toString(36);

const base = await zx('backup.mjs', 'run', '--json');
if (base.exitCode !== 0) throw new Error(`backup run: ${base.stdout}${base.stderr}`);
step(`base dump taken; POSTing a note every ${interval} ms (titles rpo-${run}-N)`);

const client = proxyClient(target.httpsUrl, target.domain);
const ackAt = new Map<number, number>();
let killing = false;
let refused = 0;
const writer = (async () => {
  for (let n = 1; n <= 100_000; n++) {
    const sent = Date.now();
    try {
      const r = await client.post('/notes', { title: `rpo-${run}-${n}`, body: 'x'.repeat(100) }, 3000);
      if (r.status === 201) ackAt.set(n, Date.now());
      else if (r.status === 429) refused++;
      else throw new Error(`POST /notes answered ${r.status}: ${r.body.slice(0, 200)}`);
    } catch (e) {
      if (!killing) throw e;
      return; // the kill: this POST and every later one fail
    }
    await sleep(Math.max(0, interval - (Date.now() - sent)));
  }
})();

// The timer ships at each wall-clock minute; these minutes pass with the writer running.
for (let i = 0; i < minutes; i++) {
  await sleep(60_000 - (Date.now() % 60_000) + 2_000);
  step(`minute ${i + 1}: ${ackAt.size} writes acknowledged`);
}
await sleep(Math.floor(Math.random() * 60_000));
killing = true;
await $`docker kill ${cfg.container}`;
const killedAt = Date.now();
await writer.catch((e) => {
  throw new Error(`the writer failed before the kill: ${(e as Error).message}`);
});
client.close();
const acked = [...ackAt.keys()];
const lastAck = Math.max(...ackAt.values());
step(
  `twin killed; ${acked.length} writes acknowledged, the last ${((killedAt - lastAck) / 1000).toFixed(2)} s before`,
);

await $`docker rm --force ${cfg.container}`;
const [, upS] = await timed(() => zx('twin.mjs', 'up'));
target = loadTarget('twin', root);
step(`fresh twin up in ${upS.toFixed(1)} s; converging`);
const [converge, convergeS] = await timed(
  () => $({ cwd: join(root, 'ansible'), nothrow: true })`ansible-playbook setup.yml`,
);
if (converge.exitCode !== 0) throw new Error(`ansible-playbook exited ${converge.exitCode}`);
step(`converged in ${convergeS.toFixed(0)} s; restoring to the latest time`);
const [restore, restoreS] = await timed(() => zx('backup.mjs', 'restore', '--to-time', 'latest', '--json'));
if (restore.exitCode !== 0) throw new Error(`restore: ${restore.stdout}${restore.stderr}`);

const ssh = await SshRunner.connect(target);
const titles = await ssh.capture([
  'sudo',
  '-n',
  'mariadb',
  '-N',
  '-e',
  `SELECT title FROM notes WHERE title LIKE 'rpo-${run}-%'`,
  'e2m_scratch_restore',
]);
await ssh.close();
const restored = new Set(
  titles
    .split('\n')
    .filter(Boolean)
    .map((t) => Number(t.split('-').at(-1))),
);
const newest = Math.max(0, ...[...restored].filter((n) => ackAt.has(n)));
const holes = acked.filter((n) => n < newest && !restored.has(n));
const lost = acked.filter((n) => !restored.has(n));
const rpoS = (lastAck - (ackAt.get(newest) ?? t0)) / 1000;
echo('');
echo(
  `writes: one POST /notes every ${interval} ms through Caddy, no retry; ${refused} refused by the rate limit`,
);
echo(
  `RPO: ${rpoS.toFixed(1)} s of acknowledged writes lost (${lost.length} of ${acked.length}); killed ${((killedAt - t0) / 1000).toFixed(0)} s into the run`,
);
echo(`holes before the newest restored write: ${holes.length ? holes.join(', ') : 'none'}`);
echo(
  `recovery: twin up ${upS.toFixed(1)} s, converge ${convergeS.toFixed(0)} s, restore --to-time latest ${restoreS.toFixed(1)} s`,
);
echo('the twin is fresh and converged with nothing deployed: npm run deploy serves the app again');
