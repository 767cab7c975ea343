// `npm run bench -- cgroup-v2`: does the container twin's 1 GB hold on a cgroup v2 host, as most
// users' laptops are (Debian 12, Ubuntu 22.04+, Fedora, Docker Desktop)? This machine is cgroup
// v1, so the proof runs in a stand-in laptop: a QEMU guest (the kernel twin's Debian 12 disk and
// cloud kernel, systemd's default unified hierarchy) with 3 GB of RAM. In it, as a user would:
// Debian's docker.io (with AppArmor, as Debian installs it by default), this work tree, `npm run twin -- reset`, then the e2e memory test (test/e2e/90-memory.test.ts): a container in the twin allocates
// 1.5 GB and must be OOM-killed by the twin's own 1 GB limit, with the twin and the laptop fine.
// The twin's base image is built on this machine (cached as for `twin up`) and loaded into the
// laptop's Docker: debootstrap under emulation would add about 20 minutes and prove nothing about
// cgroups; --build-base builds it in the guest instead.
// Prints each step's time, the guest's cgroup facts, the test's summary and the kernel's OOM line.
// Exit code: 0 when the test passed, 1 otherwise. Options: --keep (leave the guest running; its
// run directory and agent socket are printed), --memory MIB (default 3072), --build-base.
// Needs: bash .ci/install.sh kernel; slow (software emulation): about 30-40 minutes.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { argv, echo } from 'zx';
import { LocalRunner } from '../scripts/lib/runner.ts';
import { buildBase, consoleProgress, loadConfig, readState, runSteps } from '../scripts/lib/twin/execute.ts';
import { agentReadyStep, bootSteps, downKernelSteps, kernelPaths } from '../scripts/lib/twin/kernel/plan.ts';
import { guestExec } from '../scripts/lib/twin/kernel/qga.ts';

const root = join(import.meta.dirname, '..');
const memoryMiB = Number(argv.memory ?? 3072);
if (!(memoryMiB >= 2048 && memoryMiB <= 16384))
  throw new Error('bench cgroup-v2: --memory 2048..16384 (MiB)');
const cache = process.env.E2M_CACHE ?? join(process.env.HOME ?? '/root', '.cache', 'e2-micro');
const runner = new LocalRunner();
const progress = consoleProgress();
// A guest of its own, beside any twin: its own state directory, no ports published.
const work = mkdtempSync(join(tmpdir(), 'e2m-v2-'));
const base = loadConfig(root, process.env, { kernel: true });
/** The container twin the laptop will run: its base image. */
const container = { ...loadConfig(root, process.env, {}), machine: 'container' as const };
const cfg = {
  ...base,
  kernelDir: join(work, 'kernel'),
  qgaSocket: join(work, 'kernel', 'qga.sock'),
  container: 'e2m-v2-laptop',
};
const paths = kernelPaths(cfg);
const t0 = Date.now();
const since = (t: number) => `${((Date.now() - t) / 1000).toFixed(0)} s`;

/** A root shell command in the guest; fails loudly with its output. */
async function guest(script: string, timeoutMs = 600_000): Promise<string> {
  const r = await guestExec(paths.socket, ['sh', '-c', script], { timeoutMs });
  if (r.code !== 0)
    throw new Error(`guest: exit ${r.code}: ${script.slice(0, 120)}\n${r.stdout}${r.stderr}`.trimEnd());
  return r.stdout.toString().trim();
}

async function step<T>(title: string, fn: () => Promise<T>): Promise<T> {
  const t = Date.now();
  progress.start(title);
  const v = await fn();
  progress.done(title, Date.now() - t);
  return v;
}

// What the laptop gets from this machine, on a read-only disk: the work tree (with its
// node_modules, without this machine's twin state) and the project's tools (Node, Bun, the GCS
// emulator, debootstrap's package cache). npm itself is not copied: a stand-in runs package.json's
// scripts as `npm run -s NAME -- ARGS` would.
const NPM = `#!/bin/sh
# npm run [-s] NAME [-- ARGS]: package.json's script NAME with ARGS, as npm runs it.
[ "$1" = run ] || { echo "npm stand-in: only run" >&2; exit 2; }
shift; [ "$1" = -s ] && shift; name=$1; shift; [ "$1" = -- ] && shift
script=$(node -p "require('./package.json').scripts[process.argv[1]] ?? ''" "$name")
[ -n "$script" ] || { echo "npm stand-in: no script $name" >&2; exit 1; }
exec sh -c "$script \\"\\$@\\"" npm "$@"
`;

async function payloadDisk(): Promise<string> {
  const stage = join(work, 'payload');
  const disk = join(work, 'payload.img');
  spawnSync('mkdir', ['-p', stage]);
  const tar = (args: string[]) => {
    const r = spawnSync('tar', args, { stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error(`tar ${args.join(' ')}: exit ${r.status}`);
  };
  tar([
    '-C',
    root,
    '--exclude=./.twin',
    '--exclude=./.git',
    '--exclude=./inventory/twin.yml',
    '-cf',
    join(stage, 'work.tar'),
    '.',
  ]);
  tar(['-C', cache, '-cf', join(stage, 'cache.tar'), 'tools', 'go/bin/fake-gcs-server', 'twin/debs']);
  if (!argv['build-base'])
    await runner.run(['docker', 'save', '-o', join(stage, 'base.tar'), container.baseImage]);
  writeFileSync(join(stage, 'npm'), NPM, { mode: 0o755 });
  await runner.run(['truncate', '-s', '4G', disk]);
  await runner.run(['mkfs.ext4', '-q', '-F', '-L', 'e2m-payload', '-d', stage, disk]);
  rmSync(stage, { recursive: true, force: true });
  return disk;
}

let failed = true;
try {
  if (!(await readState(runner, cfg)).baseImage) await buildBase(runner, cfg, progress);
  if (!argv['build-base'] && !(await readState(runner, container)).baseImage)
    await buildBase(runner, container, progress);
  const disk = await step('the payload disk (work tree, tools)', payloadDisk);
  await runSteps(
    runner,
    [...bootSteps(cfg, paths, { memoryMiB, forwardPorts: false, extraDisks: [disk] }), agentReadyStep(cfg)],
    progress,
  );
  const facts = await step('the guest: cgroup v2?', () =>
    guest(
      `echo "fs $(stat -fc %T /sys/fs/cgroup), controllers: $(cat /sys/fs/cgroup/cgroup.controllers), memory: $(grep MemTotal /proc/meminfo | tr -s ' '), kernel $(uname -r)"`,
    ),
  );
  echo(`guest: ${facts}`);
  if (!facts.startsWith('fs cgroup2fs'))
    throw new Error('the guest does not run the unified cgroup v2 hierarchy');
  await step('unpack the work tree and the tools', () =>
    guest(
      'set -e; mkdir -p /mnt/p /root/e2m /root/.cache/e2-micro; mount -o ro /dev/vdb /mnt/p; tar -C /root/e2m -xf /mnt/p/work.tar; tar -C /root/.cache/e2-micro -xf /mnt/p/cache.tar; install -m 0755 /mnt/p/npm /usr/local/bin/npm',
    ),
  );
  await step("install Debian's docker.io and debootstrap, as a laptop would", () =>
    guest(
      'set -e; export DEBIAN_FRONTEND=noninteractive; apt-get update -qq; apt-get install -y -qq --no-install-recommends docker.io apparmor debootstrap ca-certificates curl >/dev/null; systemctl start docker; docker info --format "Docker {{.ServerVersion}}, cgroup v{{.CgroupVersion}}, driver {{.CgroupDriver}}"',
      1_800_000,
    ).then((s) => echo(`guest: ${s}`)),
  );
  if (!argv['build-base'])
    await step(`load ${container.baseImage}, built on this machine`, () =>
      guest('docker load -q -i /mnt/p/base.tar', 1_800_000),
    );
  await guest('umount /mnt/p');
  // The test run: the e2e project's own global setup resets the twin (`npm run twin -- reset`).
  await guest(
    'cd /root/e2m && systemd-run --unit e2m-v2 --working-directory=/root/e2m --setenv=HOME=/root --setenv=E2M_E2E_ONLY=90 -p StandardOutput=file:/root/v2.log -p StandardError=file:/root/v2.log bash scripts/with-tools.sh vitest run --project e2e --reporter=verbose',
  );
  const tRun = Date.now();
  progress.start('the twin from scratch and the OOM test (test/e2e/90-memory.test.ts)');
  let shown = 0;
  for (let i = 0; i < 360; i++) {
    await new Promise((r) => setTimeout(r, 10_000));
    const log = await guest('cat /root/v2.log 2>/dev/null || true');
    const lines = log.split('\n');
    for (const line of lines.slice(shown)) if (line.trim()) echo(`  | ${line}`);
    shown = lines.length;
    const state = (await guestExec(paths.socket, ['systemctl', 'is-active', 'e2m-v2'])).stdout
      .toString()
      .trim();
    if (state !== 'active' && state !== 'activating') break;
  }
  const result = await guest('systemctl show -p ExecMainStatus --value e2m-v2');
  progress[result === '0' ? 'done' : 'fail']('the twin from scratch and the OOM test', Date.now() - tRun);
  const oom = await guest("dmesg | grep -m1 'oom-kill:' || echo 'no OOM line'");
  echo(`guest kernel: ${oom}`);
  failed = result !== '0';
  echo(
    `cgroup-v2: ${failed ? 'FAILED' : 'passed'}: test exit ${result}, ${memoryMiB} MiB guest, total ${since(t0)}`,
  );
} catch (e) {
  echo(`cgroup-v2: FAILED after ${since(t0)}: ${(e as Error).message}`);
} finally {
  if (argv.keep)
    echo(`left running: agent socket ${paths.socket} (node scripts/lib/twin/kernel/qga.ts SOCKET -- CMD)`);
  else {
    const pid = Number(spawnSync('cat', [paths.pidFile], { encoding: 'utf8' }).stdout.trim()) || undefined;
    await runSteps(
      runner,
      downKernelSteps(paths, pid),
      consoleProgress(() => {}),
    ).catch(() => {});
    rmSync(work, { recursive: true, force: true });
  }
}
process.exitCode = failed ? 1 : 0;
