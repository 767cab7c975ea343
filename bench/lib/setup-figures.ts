// The setup benchmarks' shared measurements on whatever twin inventory/twin.yml names (the
// container twin, or the kernel twin of `twin up --kernel`): a timed converge, resident memory
// per component, and the Lynis hardening index.
import { join } from 'node:path';
import { $, echo } from 'zx';
import type { SshRunner } from '../../scripts/lib/runner.ts';

const root = join(import.meta.dirname, '..', '..');

export async function converge(label: string): Promise<number> {
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

export async function rss(ssh: SshRunner): Promise<Record<string, number>> {
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

export async function lynis(ssh: SshRunner, skipKernel: boolean): Promise<number> {
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
