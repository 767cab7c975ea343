// Pure: each status line's judgement of what its probe printed: ok, warn or fail, with the
// threshold that decided it spelled out, so an operator at 3 a.m. knows why a line is red.
import { containerName, otherColour } from '../deploy/layout.ts';
import { type ActiveState, parseWarm } from '../deploy/state.ts';
import type { RunResult } from '../runner.ts';
import { BACKUP_RECORD, BINLOG_RECORD } from './probes.ts';

export type Level = 'ok' | 'warn' | 'fail';

export interface Verdict {
  level: Level;
  summary: string;
  threshold: string;
}

export interface JudgeContext {
  now: Date;
  active?: ActiveState;
}

export interface Check {
  id: string;
  title: string;
  /** The probe whose output this check reads. */
  probe: string;
  judge: (r: RunResult, ctx: JudgeContext) => Verdict;
}

/** Every threshold in one place (docs/incident.md lists them). */
export const THRESHOLDS = {
  loadPerCpu: { warn: 2, fail: 4 },
  rebootedWithinS: 600,
  memoryPct: { warn: 80, fail: 90 },
  swapPct: { warn: 50, fail: 80 },
  diskPct: { warn: 80, fail: 90 },
  backupAgeH: { warn: 26, fail: 50 },
  /** Seconds since every write up to the last minute's flush was in the bucket (RPO ≈ 60 s). */
  binlogLagS: { warn: 180, fail: 900 },
  oomWindowH: 24,
  /** Share of the certificate's lifetime left. Caddy renews at a third left. */
  certLeft: { warn: 1 / 4, fail: 1 / 12 },
} as const;

const v = (level: Level, summary: string, threshold: string): Verdict => ({ level, summary, threshold });
const worst = (levels: Level[]): Level =>
  levels.includes('fail') ? 'fail' : levels.includes('warn') ? 'warn' : 'ok';
const byPct = (pct: number, t: { warn: number; fail: number }): Level =>
  pct >= t.fail ? 'fail' : pct >= t.warn ? 'warn' : 'ok';
const failedProbe = (r: RunResult, what: string): Verdict | undefined =>
  r.code === 0
    ? undefined
    : v(
        'fail',
        `${what}: exit ${r.code}: ${(r.stderr || r.stdout).trim().split('\n').pop() ?? ''}`,
        'fail when the probe itself fails',
      );
const mb = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MB`;
const pctOf = (used: number, total: number) => (total > 0 ? Math.round((used / total) * 100) : 0);
const duration = (ms: number) => {
  const m = Math.round(ms / 60_000);
  if (m < 120) return `${m} min`;
  const h = ms / 3_600_000;
  return h < 48 ? `${h.toFixed(1)} h` : `${(h / 24).toFixed(1)} d`;
};

export function judgeLoad(r: RunResult): Verdict {
  const t = THRESHOLDS.loadPerCpu;
  const threshold = `load (5 min) per CPU: warn at ${t.warn}, fail at ${t.fail}; warn when up < ${THRESHOLDS.rebootedWithinS / 60} min`;
  const bad = failedProbe(r, 'load');
  if (bad) return bad;
  const [uptimeLine = '', loadLine = '', cpusLine, virt = 'none'] = r.stdout.trim().split('\n');
  const up = Number(uptimeLine.split(' ')[0]);
  const [l1, l5, l15] = loadLine.split(' ').map(Number);
  // A probe cut short (a dying VM, a full disk) answers with too little to judge: say so.
  if (!uptimeLine || !Number.isFinite(up) || !Number.isFinite(l5))
    return v('fail', `unreadable answer: ${r.stdout.slice(0, 120)}`, threshold);
  const cpus = Number(cpusLine) || 1;
  const perCpu = l5 / cpus;
  // A container (the twin) sees the host's /proc/uptime and /proc/loadavg: shown, not judged.
  if (virt !== 'none')
    return v(
      'ok',
      `host's: up ${duration(up * 1000)}, load ${l1} ${l5} ${l15} (in a ${virt} container: not judged)`,
      threshold,
    );
  const level = worst([
    perCpu >= t.fail ? 'fail' : perCpu >= t.warn ? 'warn' : 'ok',
    up < THRESHOLDS.rebootedWithinS ? 'warn' : 'ok',
  ]);
  return v(level, `up ${duration(up * 1000)}, load ${l1} ${l5} ${l15} on ${cpus} CPU`, threshold);
}

interface MemoryNumbers {
  /** Set when a cgroup limit below the RAM applies (the twin). */
  cgroupLimited: boolean;
  total: number;
  used: number;
  swapTotal: number;
  swapUsed: number;
}

export function parseMemory(text: string): MemoryNumbers {
  const [meminfo, cgroup = ''] = text.split('--- cgroup');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(meminfo)?.[1] ?? 0) * 1024;
  const cg = (key: string) => Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(cgroup)?.[1] ?? Number.NaN);
  const memTotal = kb('MemTotal');
  const swapTotal = kb('SwapTotal');
  const limit = cg('max');
  if (Number.isFinite(limit) && limit < memTotal) {
    const cache = (cg('inactive_file') || 0) + (cg('active_file') || 0);
    return { cgroupLimited: true, total: limit, used: cg('current') - cache, swapTotal: 0, swapUsed: 0 };
  }
  return {
    cgroupLimited: false,
    total: memTotal,
    used: memTotal - kb('MemAvailable'),
    swapTotal,
    swapUsed: swapTotal - kb('SwapFree'),
  };
}

export function judgeMemory(r: RunResult): Verdict {
  const t = THRESHOLDS.memoryPct;
  const threshold = `used (less reclaimable cache): warn at ${t.warn}%, fail at ${t.fail}%`;
  const bad = failedProbe(r, 'memory');
  if (bad) return bad;
  const m = parseMemory(r.stdout);
  const pct = pctOf(m.used, m.total);
  const of = m.cgroupLimited ? 'of the cgroup limit' : 'of RAM';
  return v(byPct(pct, t), `${mb(m.used)} used ${of} ${mb(m.total)} (${pct}%)`, threshold);
}

export function judgeSwap(r: RunResult): Verdict {
  const t = THRESHOLDS.swapPct;
  const threshold = `warn when there is none, or used at ${t.warn}%; fail at ${t.fail}%`;
  const bad = failedProbe(r, 'swap');
  if (bad) return bad;
  const m = parseMemory(r.stdout);
  if (m.cgroupLimited) return v('ok', 'none (a cgroup-limited host: the twin has no swap)', threshold);
  if (m.swapTotal === 0) return v('warn', 'no swap: setup adds a swapfile on the VM', threshold);
  const pct = pctOf(m.swapUsed, m.swapTotal);
  return v(byPct(pct, t), `${mb(m.swapUsed)} used of ${mb(m.swapTotal)} (${pct}%)`, threshold);
}

/** Filesystem types that hold no data of ours. */
const PSEUDO_FS = new Set([
  'devtmpfs',
  'squashfs',
  'efivarfs',
  'proc',
  'sysfs',
  'cgroup',
  'cgroup2',
  'overlay',
  'nsfs',
  'autofs',
  'mqueue',
  'debugfs',
  'tracefs',
]);
const SKIPPED_UNDER = ['/proc', '/sys', '/dev', '/var/lib/docker/', '/run/docker/', '/run/user/', '/etc/'];

export interface Filesystem {
  source: string;
  fstype: string;
  size: number;
  used: number;
  avail: number;
  target: string;
}

/** `df --output=source,fstype,size,used,avail,target` -> the filesystems that hold our data. */
export function parseDisks(text: string): Filesystem[] {
  const seen = new Set<string>();
  return text
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 6)
    .map(([source, fstype, size, used, avail, ...target]) => ({
      source,
      fstype,
      size: Number(size),
      used: Number(used),
      avail: Number(avail),
      target: target.join(' '),
    }))
    .filter(
      (f) =>
        f.target === '/' ||
        (!PSEUDO_FS.has(f.fstype) && f.size > 0 && !SKIPPED_UNDER.some((p) => f.target.startsWith(p))),
    )
    .filter((f) => {
      // One filesystem mounted in several places (bind mounts) counts once.
      const key = `${f.source} ${f.size}`;
      if (f.fstype !== 'tmpfs' && seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

export function judgeDisk(r: RunResult): Verdict {
  const t = THRESHOLDS.diskPct;
  const threshold = `used per filesystem: warn at ${t.warn}%, fail at ${t.fail}%`;
  const bad = failedProbe(r, 'df');
  if (bad) return bad;
  const rows = parseDisks(r.stdout).map((f) => ({ ...f, pct: pctOf(f.used, f.used + f.avail) }));
  if (rows.length === 0) return v('warn', 'df listed no filesystem', threshold);
  const full = rows.filter((f) => byPct(f.pct, t) !== 'ok').sort((a, b) => b.pct - a.pct);
  if (full.length === 0) {
    const top = rows.reduce((a, b) => (b.pct > a.pct ? b : a));
    return v(
      'ok',
      `${rows.length} filesystems under ${t.warn}% (fullest ${top.target} ${top.pct}%)`,
      threshold,
    );
  }
  const named = full.map((f) => `${f.target} ${f.pct}% (${mb(f.avail)} free of ${mb(f.size)})`).join(', ');
  return v(worst(full.map((f) => byPct(f.pct, t))), named, threshold);
}

export function judgeUnits(r: RunResult): Verdict {
  const threshold = 'fail on any failed systemd unit';
  const bad = failedProbe(r, 'systemctl --failed');
  if (bad) return bad;
  const units = r.stdout
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0])
    .filter(Boolean);
  return units.length === 0
    ? v('ok', 'no failed units', threshold)
    : v('fail', `failed: ${units.join(', ')}`, threshold);
}

export function judgeRelease(r: RunResult, ctx: JudgeContext): Verdict {
  const threshold = 'warn when nothing is deployed (the maintenance page serves)';
  const bad = failedProbe(r, 'state.json');
  if (bad) return bad;
  const a = ctx.active;
  return a
    ? v('ok', `${a.release} on ${a.colour} since ${a.since}`, threshold)
    : v('warn', 'nothing deployed yet', threshold);
}

export function judgeContainers(r: RunResult, ctx: JudgeContext): Verdict {
  const threshold = 'fail unless the active colour runs and is healthy; warn while its health is starting';
  const bad = failedProbe(r, 'docker ps');
  if (bad) return bad;
  const rows = r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [name, state, status, release] = l.split('\t');
      return { name, state, status, release };
    });
  const active = ctx.active;
  if (!active) return v('warn', `no active colour; ${rows.length} app containers`, threshold);
  const mine = rows.find((c) => c.name === containerName(active.colour));
  const other = rows.find((c) => c.name === containerName(otherColour(active.colour)));
  const otherNote = other ? `; ${other.name} ${other.state} (${other.release})` : '';
  if (!mine) return v('fail', `${containerName(active.colour)} is missing${otherNote}`, threshold);
  const health = /\((healthy|unhealthy|health: starting)\)/.exec(mine.status)?.[1] ?? 'no healthcheck';
  const level: Level =
    mine.state !== 'running' || health === 'unhealthy'
      ? 'fail'
      : health === 'health: starting'
        ? 'warn'
        : 'ok';
  return v(level, `${mine.name} ${mine.state}, ${health} (${mine.status})${otherNote}`, threshold);
}

/** The previous colour kept running out of rotation (docs/deploy.md): what a rollback would be. */
export function judgeWarm(r: RunResult, ctx: JudgeContext): Verdict {
  const threshold = 'warn when the warm file names a colour that is not running its release';
  const bad = failedProbe(r, 'the warm file');
  if (bad) return bad;
  const [file = '', container = ''] = r.stdout.split('--- container');
  const w = parseWarm(file);
  if (!w) return v('ok', 'none: a rollback starts the parked colour (seconds)', threshold);
  const [found = '', release = ''] = container.trim().split(/\s+/);
  const state = found || 'missing';
  const left = Math.round((Date.parse(w.until) - ctx.now.getTime()) / 1000);
  const when = left > 0 ? `until ${w.until} (${left} s left)` : `window ended ${w.until}, being parked`;
  if (state !== 'running' || release !== w.release)
    return v(
      'warn',
      `${w.release} on ${w.colour} ${when}, but ${containerName(w.colour)} is ${state}${release && release !== w.release ? ` with ${release}` : ''}: a rollback starts it`,
      threshold,
    );
  return v('ok', `${w.release} on ${w.colour} ${when}: a rollback to it is just the switch`, threshold);
}

function proxyParts(r: RunResult) {
  const [first = '', ...body] = r.stdout.split('\n');
  const [caddy = '', code = '000'] = first.trim().split(' ');
  const text = body.join(' ').trim();
  // An HTML page (Caddy's maintenance page) is named by its title, not dumped.
  const title = /<title>([^<]*)<\/title>/i.exec(text)?.[1];
  return { caddy, code, body: title ? `page "${title}"` : text.slice(0, 160) };
}

export function judgeProxy(r: RunResult): Verdict {
  const threshold = 'fail unless caddy is active and answers HTTPS on 443';
  const p = proxyParts(r);
  if (p.caddy !== 'active') return v('fail', `caddy is ${p.caddy || 'unknown'}`, threshold);
  if (p.code === '000') return v('fail', 'caddy is active but nothing answers on 443', threshold);
  return v('ok', `caddy active, answers ${p.code}`, threshold);
}

export function judgeSite(r: RunResult, ctx: JudgeContext): Verdict {
  const threshold =
    'fail unless /readyz through the proxy answers 200 (503 is expected while nothing is deployed)';
  const p = proxyParts(r);
  if (p.code === '200') return v('ok', '/readyz 200 through the proxy', threshold);
  if (!ctx.active && p.code === '503')
    return v('warn', '/readyz 503: the maintenance page (nothing deployed)', threshold);
  const why =
    p.code === '000'
      ? 'no answer'
      : p.code === '502'
        ? '502: the proxy cannot reach the app'
        : `${p.code}${p.body ? `: ${p.body}` : ''}`;
  return v('fail', `/readyz ${why}`, threshold);
}

const serviceAnswers = (
  r: RunResult,
  unit: string,
  answered: (reply: string) => boolean,
  threshold: string,
): Verdict => {
  const [state = '', ...rest] = r.stdout.trim().split('\n');
  const reply = rest.join(' ').trim();
  if (state !== 'active')
    return v('fail', `${unit} is ${state || 'unknown'}${reply ? `: ${reply}` : ''}`, threshold);
  return answered(reply)
    ? v('ok', `${unit} active, ${reply}`, threshold)
    : v('fail', `${unit} active but ${reply || 'no reply'}`, threshold);
};

export const judgeDatabase = (r: RunResult): Verdict =>
  serviceAnswers(
    r,
    'mariadb',
    (s) => s.includes('is alive'),
    'fail unless `mysqladmin ping` answers within 3 s',
  );

/** A password-protected Redis answering NOAUTH is answering. */
export const judgeRedis = (r: RunResult): Verdict =>
  serviceAnswers(
    r,
    'redis-server',
    (s) => s === 'PONG' || s.startsWith('NOAUTH'),
    'fail unless PING answers within 5 s',
  );

export function judgeBackup(r: RunResult, ctx: JudgeContext): Verdict {
  const t = THRESHOLDS.backupAgeH;
  const threshold = `warn when none is recorded or the last is over ${t.warn} h old; fail over ${t.fail} h or when it failed`;
  const bad = failedProbe(r, BACKUP_RECORD);
  if (bad) return bad;
  const [record, unit = ''] = r.stdout.split('--- unit');
  // systemd's view covers a job that died before it could write its record.
  const result = /^Result=(\S+)/m.exec(unit)?.[1];
  const unitFailed = result !== undefined && result !== 'success';
  if (!record.trim())
    return unitFailed
      ? v('fail', `no backup recorded and e2m-backup.service failed (${result})`, threshold)
      : v('warn', `no backup recorded (${BACKUP_RECORD} missing)`, threshold);
  let rec: { ok?: boolean; finishedAt?: string; object?: string; bytes?: number; error?: string };
  try {
    rec = JSON.parse(record);
  } catch {
    return v('fail', `${BACKUP_RECORD} is not JSON`, threshold);
  }
  const finished = Date.parse(rec.finishedAt ?? '');
  if (Number.isNaN(finished)) return v('fail', `${BACKUP_RECORD} has no valid finishedAt`, threshold);
  const ageMs = ctx.now.getTime() - finished;
  const age = `${duration(ageMs)} ago`;
  if (rec.ok !== true)
    return v('fail', `last backup FAILED ${age}: ${rec.error ?? 'no error given'}`, threshold);
  if (unitFailed)
    return v(
      'fail',
      `e2m-backup.service failed (${result}) after the last recorded backup ${age}`,
      threshold,
    );
  const h = ageMs / 3_600_000;
  const level: Level = h > t.fail ? 'fail' : h > t.warn ? 'warn' : 'ok';
  return v(level, `last backup ${age}: ${rec.object} (${mb(rec.bytes ?? 0)})`, threshold);
}

/** Point-in-time recovery's shipping lag: how many seconds of writes a lost disk would take. */
export function judgeBinlog(r: RunResult, ctx: JudgeContext): Verdict {
  const t = THRESHOLDS.binlogLagS;
  const threshold = `warn when the binlogs were last shipped over ${t.warn} s ago; fail over ${t.fail} s`;
  const bad = failedProbe(r, BINLOG_RECORD);
  if (bad) return bad;
  const [record, unit = ''] = r.stdout.split('--- unit');
  const enabled = /^enabled$/m.test(unit);
  const result = /^Result=(\S+)/m.exec(unit)?.[1];
  if (!record.trim())
    return enabled
      ? v('warn', `binlog shipping enabled but nothing shipped yet (${BINLOG_RECORD} missing)`, threshold)
      : v('ok', 'binlog shipping is off (no point-in-time recovery; nightly dumps only)', threshold);
  let shippedAt: number;
  try {
    shippedAt = Date.parse((JSON.parse(record) as { shippedAt?: string }).shippedAt ?? '');
  } catch {
    return v('fail', `${BINLOG_RECORD} is not JSON`, threshold);
  }
  if (Number.isNaN(shippedAt)) return v('warn', 'binlogs: no shipping has finished yet', threshold);
  const lagS = (ctx.now.getTime() - shippedAt) / 1000;
  const level: Level = lagS > t.fail ? 'fail' : lagS > t.warn ? 'warn' : 'ok';
  const failed = result && result !== 'success' ? `; e2m-binlog.service last ${result}` : '';
  const off = enabled ? '' : '; its timer is not enabled';
  const ago = lagS < 120 ? `${Math.round(Math.max(0, lagS))} s` : duration(lagS * 1000);
  return v(level, `binlogs shipped ${ago} ago${failed}${off}`, threshold);
}

/** The cgroup whose OOM kills count: PID 1's (the twin's own), or all of them on a VM. */
function oomScope(procCgroup: string): string {
  const lines = procCgroup.trim().split('\n');
  const line =
    lines.find((l) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(l)) ?? lines.find((l) => l.startsWith('0::'));
  const path = (line ?? '0::/')
    .split(':')
    .slice(2)
    .join(':')
    .replace(/\/init\.scope$/, '');
  return path === '' ? '/' : path;
}

export function judgeOom(r: RunResult, ctx: JudgeContext): Verdict {
  const h = THRESHOLDS.oomWindowH;
  const threshold = `warn on any OOM kill in the last ${h} h`;
  const bad = failedProbe(r, 'dmesg');
  if (bad) return bad;
  const [cgroup, dmesg = ''] = r.stdout.split('--- dmesg');
  const scope = oomScope(cgroup);
  const since = ctx.now.getTime() - h * 3_600_000;
  const kills = dmesg
    .split('\n')
    .filter((l) => l.includes('oom-kill:'))
    .map((l) => ({
      time: Date.parse(l.split(' ')[0].replace(',', '.')),
      memcg: /task_memcg=([^,]*)/.exec(l)?.[1] ?? '/',
      task: /task=([^,]*)/.exec(l)?.[1] ?? '?',
    }))
    .filter((k) => k.time >= since && (scope === '/' || k.memcg.startsWith(scope)));
  if (kills.length === 0) return v('ok', `none in the last ${h} h`, threshold);
  const last = kills[kills.length - 1];
  return v(
    'warn',
    `${kills.length} in the last ${h} h; latest ${last.task} at ${new Date(last.time).toISOString()}`,
    threshold,
  );
}

export function judgeCertificate(r: RunResult, ctx: JudgeContext): Verdict {
  const t = THRESHOLDS.certLeft;
  const threshold = `share of its lifetime left: warn under 1/${1 / t.warn}, fail under 1/${1 / t.fail} (Caddy renews at 1/3)`;
  const start = Date.parse(/notBefore=(.+)/.exec(r.stdout)?.[1] ?? '');
  const end = Date.parse(/notAfter=(.+)/.exec(r.stdout)?.[1] ?? '');
  if (Number.isNaN(start) || Number.isNaN(end))
    return v('fail', `no certificate read on 127.0.0.1:443 ${r.stderr.trim()}`.trim(), threshold);
  const left = end - ctx.now.getTime();
  const share = left / (end - start);
  const level: Level = share < t.fail ? 'fail' : share < t.warn ? 'warn' : 'ok';
  const when = left <= 0 ? `EXPIRED ${duration(-left)} ago` : `expires in ${duration(left)}`;
  return v(level, `${when} (${new Date(end).toISOString()})`, threshold);
}

export function judgeKillSwitch(r: RunResult): Verdict {
  const threshold = 'warn while on: every route but health answers 503 on purpose';
  // Optional in the app contract (docs/app-contract.md): an app without the command answers
  // with a usage error (2), or the image has no /app/server at all (Docker's 126/127).
  if ([2, 126, 127].includes(r.code))
    return v('ok', 'not offered by this app (optional: docs/app-contract.md)', threshold);
  const bad = failedProbe(r, 'kill-switch status');
  if (bad) return bad;
  try {
    const s = JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
    return s.on
      ? v('warn', `ON since ${s.since ?? '?'}: ${s.reason ?? 'no reason given'} (${s.source})`, threshold)
      : v('ok', 'off', threshold);
  } catch {
    return v('fail', `unreadable answer: ${r.stdout.slice(0, 120)}`, threshold);
  }
}

/** The status screen, in the order an operator reads it. */
export const CHECKS: Check[] = [
  { id: 'release', title: 'active release', probe: 'release', judge: judgeRelease },
  { id: 'load', title: 'uptime and load', probe: 'load', judge: judgeLoad },
  { id: 'memory', title: 'memory', probe: 'memory', judge: judgeMemory },
  { id: 'swap', title: 'swap', probe: 'memory', judge: judgeSwap },
  { id: 'disk', title: 'disk', probe: 'disk', judge: judgeDisk },
  { id: 'units', title: 'systemd units', probe: 'units', judge: judgeUnits },
  { id: 'containers', title: 'app containers', probe: 'containers', judge: judgeContainers },
  { id: 'warm', title: 'warm colour', probe: 'warm', judge: judgeWarm },
  { id: 'proxy', title: 'proxy', probe: 'proxy', judge: judgeProxy },
  { id: 'site', title: 'site', probe: 'proxy', judge: judgeSite },
  { id: 'database', title: 'database', probe: 'database', judge: judgeDatabase },
  { id: 'redis', title: 'redis', probe: 'redis', judge: judgeRedis },
  { id: 'kill-switch', title: 'kill switch', probe: 'kill-switch', judge: judgeKillSwitch },
  { id: 'backup', title: 'last backup', probe: 'backup', judge: judgeBackup },
  { id: 'binlog', title: 'binlog shipping', probe: 'binlog', judge: judgeBinlog },
  { id: 'oom', title: 'OOM kills', probe: 'oom', judge: judgeOom },
  { id: 'certificate', title: 'certificate', probe: 'certificate', judge: judgeCertificate },
];
