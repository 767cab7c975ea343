// Last on purpose (after the converge tests): inside the twin, a container that allocates 1.5 GB
// is OOM-killed by the twin's own 1 GB limit, the twin stays up and this machine is unaffected.
// Works on a fresh twin (installs Debian's docker.io itself) and on a converged one.
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

  it('OOM-kills a container that allocates 1.5 GB; the twin stays up; the host is unaffected', async () => {
    const cg = twinCgroup(await ssh.capture(['cat', '/proc/1/cgroup']));
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
