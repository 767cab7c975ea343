// `npm run bench -- hardening-kernel`: the hardening roles on a kernel of their own (issue 24),
// which the container twin cannot show. On the kernel twin (`npm run twin -- up --kernel`,
// converged with `cd ansible && ansible-playbook setup.yml`), over SSH as ops, read back:
//   - every sysctl os_hardening sets, applied (`sysctl -n` equals the role's value);
//   - dev-sec linux-baseline's sysctl controls (bench/lib/devsec-sysctl.ts) and the CPU's NX flag;
//   - auditd running, with the rules of /etc/audit/rules.d loaded in the kernel;
//   - each module the role disables refused by modprobe and not loaded;
//   - Docker still starts a container; the app still serves, when one is deployed;
//   - the guest keeps IPv4 and IPv6 (address and default route each, and GCS over IPv4);
//   - the Lynis hardening index with no test skipped (--no-lynis leaves it out, ~10 min here).
// Prints one line per check and a summary; exit 0 when nothing failed that is not justified.
// Re-run: bash .ci/install.sh kernel && npm run twin -- up --kernel &&
//   (cd ansible && ansible-playbook setup.yml) && npm run bench -- hardening-kernel
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { argv, echo, YAML } from 'zx';
import { SshRunner } from '../scripts/lib/runner.ts';
import { loadTarget } from '../scripts/lib/target.ts';
import { JUSTIFIED, judge, parseSysctl, SYSCTL_KEYS } from './lib/devsec-sysctl.ts';
import { lynis } from './lib/setup-figures.ts';

const root = join(import.meta.dirname, '..');
const target = loadTarget('twin', root);
const inventory = readFileSync(target.inventoryFile, 'utf8');
if (!inventory.includes('e2m_twin_kernel: true'))
  throw new Error(
    `bench hardening-kernel: ${target.inventoryFile} is not the kernel twin's: npm run twin -- up --kernel`,
  );
const role = YAML.parse(readFileSync(join(root, 'ansible/roles/os_hardening/defaults/main.yml'), 'utf8')) as {
  os_hardening_sysctl: Record<string, number>;
  os_hardening_disabled_modules: string[];
};

type Result = 'pass' | 'fail' | 'justified' | 'n/a';
const results: { check: string; result: Result; detail: string }[] = [];
const report = (check: string, result: Result, detail = '') => {
  results.push({ check, result, detail });
  echo(`${result.padEnd(9)} ${check}${detail ? `: ${detail}` : ''}`);
};

const ssh = await SshRunner.connect(target);
const sudo = (argv: string[], check = true) => ssh.run(['sudo', '-n', ...argv], { check });
try {
  // Every sysctl the role sets, as the running kernel has it.
  const roleKeys = Object.keys(role.os_hardening_sysctl);
  const running = parseSysctl((await sudo(['sysctl', ...roleKeys, ...SYSCTL_KEYS], false)).stdout);
  const off = roleKeys.filter((k) => Number(running[k]) !== role.os_hardening_sysctl[k]);
  report(
    `os_hardening: ${roleKeys.length} sysctls applied`,
    off.length ? 'fail' : 'pass',
    off.map((k) => `${k}=${running[k] ?? 'absent'} (role: ${role.os_hardening_sysctl[k]})`).join(', '),
  );
  for (const v of judge(running))
    report(
      `dev-sec ${v.id} ${v.title}`,
      v.result,
      v.result === 'justified' ? `${v.detail}: ${JUSTIFIED[v.id]}` : v.detail,
    );
  const nx = /^flags\s*:.*\bnx\b/m.test(await ssh.capture(['cat', '/proc/cpuinfo']));
  report('dev-sec sysctl-33 NX flag', nx ? 'pass' : 'fail');

  // auditd and its rules, loaded in the kernel.
  const active = (await ssh.run(['systemctl', 'is-active', 'auditd'], { check: false })).stdout.trim();
  const loaded = (await sudo(['auditctl', '-l'], false)).stdout
    .split('\n')
    .filter((l) => l.startsWith('-')).length;
  const written = (
    await sudo(['sh', '-c', "cat /etc/audit/rules.d/*.rules | grep -c '^-[aw]'"], false)
  ).stdout.trim();
  report(
    'auditd running, rules loaded',
    active === 'active' && loaded > 0 && loaded === Number(written) ? 'pass' : 'fail',
    `${active}, ${loaded} rules in the kernel, ${written} written`,
  );

  // Modules the role disables: modprobe refuses each (install /bin/true or /bin/false), none loaded.
  const modules = role.os_hardening_disabled_modules;
  const refused: string[] = [];
  for (const m of modules) {
    const dry = (await sudo(['modprobe', '--dry-run', '--verbose', m], false)).stdout;
    if (/^install \/bin\/(true|false)/m.test(dry)) refused.push(m);
  }
  await sudo(['modprobe', 'squashfs'], false); // as a mount of a squashfs image would ask
  const lsmod = await ssh.capture(['cat', '/proc/modules']);
  const live = modules.filter((m) => new RegExp(`^${m.replace(/-/g, '_')} `, 'm').test(lsmod));
  report(
    `os_hardening: ${modules.length} modules disabled`,
    refused.length === modules.length && live.length === 0 ? 'pass' : 'fail',
    `${refused.length} refused by modprobe, loaded: ${live.join(' ') || 'none'}`,
  );

  // Docker still starts containers (a one-binary image made on the VM: nothing is pulled).
  const docker = await sudo(
    [
      'sh',
      '-c',
      'tar -chf - $(ldd /usr/bin/true | grep -o "/[^ ]*") /usr/bin/true 2>/dev/null | docker import - e2m-true >/dev/null && docker run --rm e2m-true /usr/bin/true && docker rmi e2m-true >/dev/null',
    ],
    false,
  );
  report(
    'Docker starts a container',
    docker.code === 0 ? 'pass' : 'fail',
    docker.stderr.trim().slice(0, 200),
  );
  const app = await fetch(`${target.httpUrl}/healthz`).then(
    (r) => r.status,
    (e: Error) => e.message,
  );
  report(
    'the app serves /healthz through Caddy',
    app === 200 ? 'pass' : typeof app === 'number' ? 'fail' : 'n/a',
    app === 200 ? '' : `${app} (deploy first: zx scripts/deploy.mjs deploy)`,
  );

  // The guest's own network: IPv4 and IPv6, each with an address and a default route.
  const v4 = await ssh.capture(['ip', '-4', 'route', 'show', 'default']);
  const gcs = await ssh.run(
    [
      'curl',
      '-fsS',
      '-o',
      '/dev/null',
      '--max-time',
      '10',
      'http://10.0.2.2:4443/storage/v1/b?project=e2m-twin-local',
    ],
    {
      check: false,
    },
  );
  report('IPv4: default route, GCS reached', v4 && gcs.code === 0 ? 'pass' : 'fail', v4.split('\n')[0]);
  // QEMU's user network hands out fec0::/64: site-local to the kernel, so not `scope global`.
  const v6 = (await ssh.capture(['ip', '-6', '-o', 'address']))
    .split('\n')
    .filter((l) => !/ (fe80::|::1\/)/.test(l))
    .join('\n');
  const v6route = await ssh.capture(['ip', '-6', 'route', 'show', 'default']);
  report(
    'IPv6: an address beyond link-local and a default route kept',
    /inet6 \S+/.test(v6) && v6route !== '' ? 'pass' : 'fail',
    `${/inet6 (\S+)/.exec(v6)?.[1] ?? 'no address'}, ${v6route.split('\n')[0] || 'no default route'}`,
  );

  if (!argv['no-lynis']) {
    await sudo(['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-qq', 'lynis']);
    const index = await lynis(ssh, false);
    report('Lynis hardening index, no test skipped (goal 90)', index >= 90 ? 'pass' : 'fail', String(index));
  }
} finally {
  await ssh.close();
}
const count = (r: Result) => results.filter((x) => x.result === r).length;
echo(
  `hardening-kernel: ${count('pass')} passed, ${count('justified')} justified, ${count('fail')} failed, ${count('n/a')} not applicable`,
);
process.exitCode = count('fail') > 0 ? 1 : 0;
