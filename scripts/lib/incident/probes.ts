// Pure: the read-only commands `incident status` runs on the VM, as exact argv. Each probe runs
// once; several checks may judge one probe's output (memory and swap read the same numbers).
// Shell is used only where a pipe or a fallback is needed; values travel as positional parameters.
import { type Argv, listContainers, readState, sh } from '../deploy/commands.ts';
import { containerName, layout } from '../deploy/layout.ts';
import type { ActiveState } from '../deploy/state.ts';

/** Where the backup job (issue 8) records its last run; root-only, hence sudo. */
export const BACKUP_RECORD = '/var/lib/e2m-backup/last.json';
/** The binlog shipper's state (scripts/lib/backup/binlog-state.ts): its shippedAt is the lag's zero. */
export const BINLOG_RECORD = '/var/lib/e2m-backup/binlog.json';

export const sudo = (argv: Argv): Argv => ['sudo', '-n', ...argv];

export interface Probe {
  id: string;
  argv: Argv;
}

/**
 * The cgroup numbers matter on the twin, where /proc/meminfo shows the host's RAM but PID 1's
 * memory cgroup holds the 1 GB (cgroup v1: under the host's hierarchy; v2: its own). A VM's
 * PID 1 sits in a cgroup without a limit, and the judge then reads /proc/meminfo.
 */
const MEMORY_SCRIPT = `cat /proc/meminfo
echo '--- cgroup'
p=$(sed -n 's/^[0-9]*:[^:]*memory[^:]*://p' /proc/1/cgroup | head -n 1)
[ -n "$p" ] || p=$(sed -n 's/^0:://p' /proc/1/cgroup)
p=\${p%/init.scope}
if [ -f "/sys/fs/cgroup/memory$p/memory.limit_in_bytes" ]; then
  d="/sys/fs/cgroup/memory$p"
  echo "max $(cat "$d/memory.limit_in_bytes")"; echo "current $(cat "$d/memory.usage_in_bytes")"
  grep -E '^total_(in)?active_file ' "$d/memory.stat" | sed 's/^total_//'
elif [ -f "/sys/fs/cgroup$p/memory.max" ]; then
  d="/sys/fs/cgroup$p"
  echo "max $(cat "$d/memory.max")"; echo "current $(cat "$d/memory.current")"
  grep -E '^(in)?active_file ' "$d/memory.stat"
fi`;

/** "<caddy state> <http code>" then the /readyz body: one request answers proxy and site. */
const PROXY_SCRIPT = `printf '%s ' "$(systemctl is-active caddy)"
curl -sk --max-time 5 --resolve "$1:443:127.0.0.1" -w '%{http_code}\\n' -o /tmp/e2m-readyz.$$ "https://$1/readyz"
head -c 300 /tmp/e2m-readyz.$$ 2>/dev/null; rm -f /tmp/e2m-readyz.$$`;

/** The warm file (deploy/commands.ts keepWarm) and its container's state and release. */
const WARM_SCRIPT = `cat "$1" 2>/dev/null; echo '--- container'
[ -f "$1" ] && docker inspect --format '{{.State.Status}} {{index .Config.Labels "e2m.release"}}' "e2m-app-$(cut -d' ' -f1 "$1")" 2>/dev/null; true`;

const CERT_SCRIPT =
  'echo | timeout 5 openssl s_client -connect 127.0.0.1:443 -servername "$1" 2>/dev/null | openssl x509 -noout -startdate -enddate';

export function statusProbes(p: { domain: string; active?: ActiveState }): Probe[] {
  const probes: Probe[] = [
    {
      id: 'load',
      argv: sh('cat /proc/uptime /proc/loadavg; nproc; systemd-detect-virt --container || true'),
    },
    { id: 'memory', argv: sh(MEMORY_SCRIPT) },
    { id: 'disk', argv: ['df', '-B1', '--output=source,fstype,size,used,avail,target'] },
    { id: 'units', argv: ['systemctl', '--failed', '--no-legend', '--plain'] },
    {
      id: 'containers',
      argv: sudo(listContainers('{{.Names}}\t{{.State}}\t{{.Status}}\t{{.Label "e2m.release"}}')),
    },
    { id: 'warm', argv: sudo(sh(WARM_SCRIPT, layout.warmFile)) },
    { id: 'proxy', argv: sh(PROXY_SCRIPT, p.domain) },
    {
      id: 'database',
      argv: sudo(sh('systemctl is-active mariadb; timeout 5 mysqladmin --connect-timeout=3 ping 2>&1')),
    },
    {
      id: 'redis',
      argv: sh('systemctl is-active redis-server; timeout 5 redis-cli -h 127.0.0.1 ping 2>&1'),
    },
    {
      id: 'backup',
      argv: sudo(
        sh(
          'cat "$1" 2>/dev/null || true; echo; echo "--- unit"; systemctl show e2m-backup.service -p Result 2>/dev/null || true',
          BACKUP_RECORD,
        ),
      ),
    },
    {
      id: 'binlog',
      argv: sudo(
        sh(
          'cat "$1" 2>/dev/null || true; echo; echo "--- unit"; systemctl is-enabled e2m-binlog.timer 2>/dev/null || true; systemctl show e2m-binlog.service -p Result 2>/dev/null || true',
          BINLOG_RECORD,
        ),
      ),
    },
    {
      id: 'oom',
      argv: sudo(
        sh(
          'cat /proc/1/cgroup; echo "--- dmesg"; dmesg --time-format iso 2>&1 | grep -E "oom-kill:|Out of memory" || true',
        ),
      ),
    },
    { id: 'certificate', argv: sh(CERT_SCRIPT, p.domain) },
  ];
  if (p.active) probes.push({ id: 'kill-switch', argv: killSwitchCommand(p.active.colour, 'status') });
  return probes;
}

/** /srv/app is the deploy user's (0750): the admin reads it through sudo. */
export const readActive = (): Probe => ({ id: 'release', argv: sudo(readState()) });

/** The binary's own command (backend/src/server.ts), in the serving colour's container. */
export function killSwitchCommand(
  colour: ActiveState['colour'],
  action: 'on' | 'off' | 'status',
  reason?: string,
): Argv {
  return sudo([
    'docker',
    'exec',
    containerName(colour),
    '/app/server',
    'kill-switch',
    action,
    ...(action === 'on' ? ['--reason', reason ?? 'incident kill switch'] : []),
  ]);
}
