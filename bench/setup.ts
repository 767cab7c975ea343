// `npm run bench -- setup`: the figures of `ansible-playbook setup.yml` on the twin: converge time
// (the first run on the twin as it is, then a run on the converged twin), the idle resident memory
// of each component of the stack and in total, and the Lynis hardening index (raw, and with the
// kernel tests skipped that a container cannot pass; see docs/setup.md).
// Needs: `npm run twin -- up` (use `npm run twin -- reset` first for a fresh-converge figure) and
// ansible-playbook on PATH (`bash .ci/install.sh` puts it in the shared venv; source .ci/env.sh).
// Options: --no-lynis (skip the Lynis runs, about 2 minutes).
import { join } from 'node:path';
import { $, argv, echo } from 'zx';
import { SshRunner } from '../scripts/lib/runner.ts';
import { loadTarget } from '../scripts/lib/target.ts';

const root = join(import.meta.dirname, '..');
const target = loadTarget('twin', root);

async function converge(label: string): Promise<number> {
  const t0 = Date.now();
  const out = await $({ cwd: join(root, 'ansible'), nothrow: true })`ansible-playbook setup.yml`;
  const seconds = (Date.now() - t0) / 1000;
  const recap = /ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/.exec(out.stdout);
  if (out.exitCode !== 0) {
    echo(out.stdout.slice(-3000));
    throw new Error(`${label}: ansible-playbook exited ${out.exitCode}`);
  }
  echo(`converge ${label}: ${seconds.toFixed(1)} s (changed=${recap?.[2]})`);
  return seconds;
}

const COMPONENTS =
  /^(mariadbd|redis-server|caddy|dockerd|containerd|systemd-journal|systemd|sshd|fail2ban-server|unattended-upgr|cron|dbus-daemon|systemd-logind)$/;

async function rss(ssh: SshRunner): Promise<Record<string, number>> {
  const ps = await ssh.capture(['ps', '-eo', 'rss=,comm=']);
  const by: Record<string, number> = {};
  for (const line of ps.split('\n')) {
    const [kb, comm = ''] = line.trim().split(/\s+/, 2);
    const key = comm.startsWith('containerd-shim')
      ? 'containerd-shim'
      : COMPONENTS.test(comm)
        ? comm
        : 'other';
    by[key] = (by[key] ?? 0) + Number(kb) / 1024;
  }
  return by;
}

async function lynis(ssh: SshRunner, skipKernel: boolean): Promise<number> {
  if (skipKernel)
    await ssh.run([
      'sudo',
      '-n',
      'sh',
      '-c',
      'printf "skip-test=KRNL-6000\\nskip-test=KRNL-5788\\n" > /etc/lynis/custom.prf',
    ]);
  try {
    const r = await ssh.run(['sudo', '-n', 'lynis', 'audit', 'system', '--quick', '--no-colors'], {
      check: false,
    });
    return Number(/Hardening index : (\d+)/.exec(r.stdout)?.[1] ?? 0);
  } finally {
    await ssh.run(['sudo', '-n', 'rm', '-f', '/etc/lynis/custom.prf'], { check: false });
  }
}

const first = await converge('first (fresh if the twin was just reset)');
const second = await converge('converged');
const ssh = await SshRunner.connect(target);
try {
  // Let the services settle after the handlers ran.
  await new Promise((r) => setTimeout(r, 15_000));
  const by = await rss(ssh);
  const total = Object.values(by).reduce((a, b) => a + b, 0);
  echo('idle RSS per component (MiB):');
  for (const [k, v] of Object.entries(by).sort((a, b) => b[1] - a[1]))
    echo(`  ${k.padEnd(18)} ${v.toFixed(1)}`);
  echo(`  ${'total'.padEnd(18)} ${total.toFixed(1)}`);
  const result: Record<string, number> = {
    convergeFirstSeconds: first,
    convergeConvergedSeconds: second,
    rssTotalMiB: Math.round(total),
  };
  if (!argv['no-lynis']) {
    await ssh.run([
      'sudo',
      '-n',
      'env',
      'DEBIAN_FRONTEND=noninteractive',
      'apt-get',
      'install',
      '-y',
      '-qq',
      'lynis',
    ]);
    result.lynisRaw = await lynis(ssh, false);
    result.lynisKernelTestsSkipped = await lynis(ssh, true);
    echo(
      `Lynis hardening index: ${result.lynisRaw} raw, ${result.lynisKernelTestsSkipped} with KRNL-6000/KRNL-5788 skipped`,
    );
  }
  echo(JSON.stringify(result));
} finally {
  await ssh.close();
}
