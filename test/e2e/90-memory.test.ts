// Last on purpose (after the converge tests): inside the twin, a container that allocates 1.5 GB
// is OOM-killed by the twin's own 1 GB limit, the twin stays up and this machine is unaffected.
// Works on a fresh twin (installs Debian's docker.io itself) and on a converged one. After the
// deploy tests it first holds the stack with both app colours running (one warm, as a deploy
// leaves it) under the 1 GB, and checks the OOM probe kills neither colour.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SshRunner } from '../../scripts/lib/runner.ts';
import { twinCgroup } from '../../scripts/lib/twin/plan.ts';
import { aptInstall, connect, sudo, twinConfig } from './support/twin.ts';

const PROBE_IMAGE = 'e2m-oom-probe';
const PROBE = 'e2m-oom-probe';
const GiB = 2 ** 30;

let ssh: SshRunner;
const names = twinConfig();
const memAvailable = () =>
  Number(/^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]) * 1024;

const failedUnits = async () =>
  (await ssh.capture(['systemctl', '--failed', '--no-legend', '--plain']))
    .split('\n')
    .map((l) => l.split(' ')[0])
    .filter(Boolean)
    .sort();

beforeAll(async () => {
  ssh = await connect();
});
afterAll(async () => {
  if (ssh) await sudo(ssh, ['docker', 'rm', '--force', PROBE], { check: false });
  await ssh?.close();
});

describe('memory: the 1 GB holds for containers of a Docker engine inside the twin', () => {
  it('has a Docker engine (installs docker.io when the twin is fresh)', async () => {
    const has = await ssh.run(['sh', '-c', 'command -v docker'], { check: false });
    if (has.code !== 0) {
      await sudo(ssh, ['apt-get', '-o', 'DPkg::Lock::Timeout=120', 'update', '-qq']);
      await aptInstall(ssh, ['docker.io']);
    }
    await sudo(ssh, ['systemctl', 'start', 'docker']);
    expect(await ssh.capture(['systemctl', 'is-active', 'docker'])).toBe('active');
  }, 300_000);

  it('with both app colours running (one warm), the whole twin stays under 1 GB, no OOM kill', async (ctx) => {
    const colours = ['e2m-app-blue', 'e2m-app-green'];
    const states = await Promise.all(
      colours.map(async (c) =>
        (
          await sudo(ssh, ['docker', 'inspect', '--format', '{{.State.Status}}', c], { check: false })
        ).stdout.trim(),
      ),
    );
    if (states.some((s) => s === '')) {
      ctx.skip(); // a fresh twin, or one the deploy tests did not run on: no colours to hold
      return;
    }
    // The warm window of the last deploy may have ended while the other suites ran: start the
    // parked colour for the measurement and park it again after.
    const started = colours.filter((_, i) => states[i] !== 'running');
    for (const c of started) await sudo(ssh, ['docker', 'start', c]);
    try {
      // Both ready: each answers /readyz on its loopback address.
      for (const address of ['127.0.2.1', '127.0.2.2'])
        await ssh.run([
          'sh',
          '-c',
          'for i in $(seq 60); do curl -sf -o /dev/null "http://$1:3000/readyz" && exit 0; sleep 0.5; done; exit 1',
          'sh',
          address,
        ]);
      const stats = (
        await sudo(ssh, ['docker', 'stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}}', ...colours])
      ).stdout.trim();
      const cg = twinCgroup(await ssh.capture(['cat', '/proc/1/cgroup']));
      expect(cg.version, 'the figures below read cgroup v1 files (as the OOM test does)').toBe(1);
      const stat = await ssh.capture(['cat', `/sys/fs/cgroup/memory${cg.path}/memory.stat`]);
      const get = (k: string) => Number(new RegExp(`^${k} (\\d+)$`, 'm').exec(stat)?.[1] ?? Number.NaN);
      const residentMiB = get('total_rss') / 2 ** 20;
      const usageMiB =
        Number(await ssh.capture(['cat', `/sys/fs/cgroup/memory${cg.path}/memory.usage_in_bytes`])) / 2 ** 20;
      // The kernel's OOM lines name the victim's cgroup: none may be an app colour's (dmesg is
      // the host's ring buffer, shared with anything else on this machine).
      const ids = (await sudo(ssh, ['docker', 'inspect', '--format', '{{.Id}}', ...colours])).stdout
        .trim()
        .split('\n');
      const kernel = (await sudo(ssh, ['dmesg'])).stdout.split('\n');
      const oom = kernel.filter((l) => l.includes('oom-kill:') && ids.some((id) => l.includes(id)));
      console.log(
        `both colours running: ${stats.split('\n').join(', ')}; twin resident (total_rss) ${residentMiB.toFixed(0)} MiB, usage with page cache ${usageMiB.toFixed(0)} MiB of 1024; OOM kills of a colour ${oom.length}`,
      );
      expect(residentMiB).toBeLessThan(1024);
      expect(usageMiB).toBeLessThanOrEqual(1024);
      expect(oom).toEqual([]);
    } finally {
      for (const c of started) await sudo(ssh, ['docker', 'stop', '--time', '30', c], { check: false });
    }
  }, 120_000);

  it('OOM-kills a container that allocates 1.5 GB; the twin stays up; the host is unaffected', async () => {
    const cg = twinCgroup(await ssh.capture(['cat', '/proc/1/cgroup']));
    const runningColours = async () =>
      (
        await sudo(ssh, [
          'sh',
          '-c',
          'command -v docker >/dev/null && docker ps --filter label=e2m.app=backend --format "{{.Names}}" | sort || true',
        ])
      ).stdout.trim();
    const coloursBefore = await runningColours();
    const hostAvailableBefore = memAvailable();
    const failedBefore = await failedUnits();
    const stateBefore = (await ssh.run(['systemctl', 'is-system-running'], { check: false })).stdout.trim();
    // A one-binary image made inside the twin (nothing can be pulled): dd with a 1.5 GiB buffer
    // touches every page of it.
    await sudo(ssh, [
      'sh',
      '-c',
      `tar -chf - $(ldd /usr/bin/dd | grep -o '/[^ ]*') /usr/bin/dd 2>/dev/null | docker import - ${PROBE_IMAGE}`,
    ]);
    await sudo(ssh, ['docker', 'rm', '--force', PROBE], { check: false });
    const run = await sudo(
      ssh,
      [
        'docker',
        'run',
        '--name',
        PROBE,
        // Below the twin's hard limit whatever daemon.json's default-ulimits say: raising a hard
        // limit needs CAP_SYS_RESOURCE, which no container on these machines has (docs/twin.md).
        '--ulimit',
        'nofile=1024:1024',
        PROBE_IMAGE,
        '/usr/bin/dd',
        'if=/dev/zero',
        'of=/dev/null',
        'bs=1536M',
        'count=1',
      ],
      { check: false },
    );
    expect(run.code, `${run.stdout}${run.stderr}`).toBe(137);
    // Docker's State.OOMKilled only reflects an OOM event in the container's own cgroup; the limit
    // that fires here is the twin's (an ancestor), so the flag is unreliable (seen both ways in CI).
    // The kernel's OOM line below is the proof: it names the victim, its cgroup and the limit hit.
    const innerId = (await sudo(ssh, ['docker', 'inspect', '--format', '{{.Id}}', PROBE])).stdout.trim();

    // The kernel names the twin's cgroup as the limit that was hit, and the probe as inside it.
    const kernel = (await sudo(ssh, ['dmesg'])).stdout;
    const oomLine = kernel.split('\n').find((l) => l.includes(`task_memcg=${cg.path}/inner/${innerId}`));
    expect(oomLine, `no OOM line for the probe in dmesg (twin cgroup ${cg.path})`).toBeDefined();
    expect(oomLine).toContain(`oom_memcg=${cg.path},`);
    expect(oomLine).toMatch(/task=dd,/);

    // The probe was the victim: every app colour that ran before still runs.
    expect(await runningColours()).toBe(coloursBefore);

    // The twin is still up and answering, and never went past its 1 GiB.
    expect(await ssh.capture(['systemctl', 'is-active', 'ssh', 'docker'])).toBe('active\nactive');
    // Nothing else in the twin went down with the probe: the same units failed as before (a
    // converged twin may already be `degraded` by units that cannot run in a container).
    expect(await failedUnits()).toEqual(failedBefore);
    expect((await ssh.run(['systemctl', 'is-system-running'], { check: false })).stdout.trim()).toBe(
      stateBefore,
    );
    expect(['running', 'degraded']).toContain(stateBefore);
    if (cg.version === 1) {
      const peak = Number(
        await ssh.capture(['cat', `/sys/fs/cgroup/memory${cg.path}/memory.max_usage_in_bytes`]),
      );
      // cgroup v1 charges pages in per-CPU batches (up to 64 pages per CPU), so its high-water
      // mark may pass the limit by a few pages while the limit holds (measured: 1 GiB + 4 KiB).
      const chargeBatch = 2 * 64 * 4096;
      expect(peak).toBeLessThanOrEqual(GiB + chargeBatch);
    }

    // This machine: its Docker engine answers, the emulator still runs, memory is still there.
    const hostDocker = spawnSync(
      'docker',
      ['inspect', '--format', '{{.State.Running}}', names.container, names.gcsContainer],
      { encoding: 'utf8' },
    );
    expect(hostDocker.stdout.trim()).toBe('true\ntrue');
    // Within 1 GiB of before: the 1.5 GB did not come out of this machine (other work on a shared
    // machine moves MemAvailable by a few hundred MB on its own).
    expect(memAvailable()).toBeGreaterThan(hostAvailableBefore - GiB);
  }, 180_000);
});
