import { describe, expect, it } from 'vitest';
import type { ActiveState } from '../deploy/state.ts';
import {
  judgeBackup,
  judgeBinlog,
  judgeCertificate,
  judgeContainers,
  judgeDatabase,
  judgeDisk,
  judgeKillSwitch,
  judgeLoad,
  judgeMemory,
  judgeOom,
  judgeProxy,
  judgeRedis,
  judgeSite,
  judgeSwap,
  judgeUnits,
  judgeWarm,
  parseDisks,
} from './judges.ts';

const out = (stdout: string, code = 0, stderr = '') => ({ code, stdout, stderr });
const now = new Date('2026-11-23T04:00:00Z');
const active: ActiveState = {
  colour: 'blue',
  release: 'v7',
  image: 'e2m/backend:v7',
  since: '2026-11-22T10:00:00Z',
};
const ctx = { now, active };

const MEMINFO = (totalKb: number, availKb: number, swapKb = 0, swapFreeKb = 0) =>
  `MemTotal:       ${totalKb} kB\nMemFree:        1000 kB\nMemAvailable:   ${availKb} kB\nSwapTotal:      ${swapKb} kB\nSwapFree:       ${swapFreeKb} kB\n--- cgroup\n`;

describe('load', () => {
  it('judges the 5-minute load per CPU and a recent reboot', () => {
    expect(judgeLoad(out('86400.5 170000.1\n0.52 0.40 0.30 1/200 999\n2\n'))).toEqual({
      level: 'ok',
      summary: 'up 24.0 h, load 0.52 0.4 0.3 on 2 CPU',
      threshold: 'load (5 min) per CPU: warn at 2, fail at 4; warn when up < 10 min',
    });
    expect(judgeLoad(out('120.0 1.0\n9.0 9.0 9.0 1/200 999\n2\n')).level).toBe('fail');
    expect(judgeLoad(out('120.0 1.0\n9.0 9.0 9.0 1/200 999\n2\ndocker\n'))).toMatchObject({
      level: 'ok',
      summary: "host's: up 2 min, load 9 9 9 (in a docker container: not judged)",
    });
    expect(judgeLoad(out('120.0 1.0\n0.1 0.1 0.1 1/200 999\n2\n'))).toMatchObject({
      level: 'warn',
      summary: 'up 2 min, load 0.1 0.1 0.1 on 2 CPU',
    });
  });

  it('names an answer too short to judge instead of crashing', () => {
    expect(judgeLoad(out(''))).toMatchObject({ level: 'fail', summary: 'unreadable answer: ' });
    expect(judgeLoad(out('86400.5 170000.1\n'))).toMatchObject({ level: 'fail' });
  });
});

describe('memory and swap', () => {
  it('uses MemAvailable on a VM', () => {
    expect(judgeMemory(out(MEMINFO(1_000_000, 400_000, 1_048_576, 1_000_000)))).toEqual({
      level: 'ok',
      summary: '586 MB used of RAM 977 MB (60%)',
      threshold: 'used (less reclaimable cache): warn at 80%, fail at 90%',
    });
    expect(judgeMemory(out(MEMINFO(1_000_000, 150_000))).level).toBe('warn');
    expect(judgeMemory(out(MEMINFO(1_000_000, 50_000))).level).toBe('fail');
  });

  it("uses the cgroup when its limit is below the RAM (the twin: /proc/meminfo is the host's)", () => {
    const twin = `${MEMINFO(16_000_000, 12_000_000)}max 1073741824\ncurrent 1000000000\ninactive_file 52428800\nactive_file 52428800\n`;
    expect(judgeMemory(out(twin))).toEqual({
      level: 'warn',
      summary: '854 MB used of the cgroup limit 1024 MB (83%)',
      threshold: 'used (less reclaimable cache): warn at 80%, fail at 90%',
    });
    expect(judgeSwap(out(twin))).toMatchObject({
      level: 'ok',
      summary: 'none (a cgroup-limited host: the twin has no swap)',
    });
  });

  it('warns without swap on a VM and judges its use', () => {
    expect(judgeSwap(out(MEMINFO(1_000_000, 400_000)))).toEqual({
      level: 'warn',
      summary: 'no swap: setup adds a swapfile on the VM',
      threshold: 'warn when there is none, or used at 50%; fail at 80%',
    });
    expect(judgeSwap(out(MEMINFO(1_000_000, 400_000, 1_048_576, 104_858)))).toMatchObject({
      level: 'fail',
      summary: '922 MB used of 1024 MB (90%)',
    });
  });
});

const DF = `Filesystem     Type     1B-blocks       Used     Avail Mounted on
overlay        overlay 100000000000 40000000000 60000000000 /
tmpfs          tmpfs       67108864          0   67108864 /dev
shm            tmpfs       67108864          0   67108864 /dev/shm
/dev/sda1      ext4    100000000000 40000000000 60000000000 /etc/hosts
/dev/sda1      ext4    100000000000 40000000000 60000000000 /var/lib/docker
tmpfs          tmpfs      104857600   5242880  99614720 /run
tmpfs          tmpfs       16777216   16252928    524288 /mnt/e2m-disk-fault
overlay        overlay 100000000000 40000000000 60000000000 /var/lib/docker/overlay2/abc/merged
`;

describe('disk', () => {
  it('keeps the filesystems that hold data, once each', () => {
    expect(parseDisks(DF).map((f) => f.target)).toEqual([
      '/',
      '/var/lib/docker',
      '/run',
      '/mnt/e2m-disk-fault',
    ]);
  });

  it('names every filesystem over the threshold', () => {
    expect(judgeDisk(out(DF))).toEqual({
      level: 'fail',
      summary: '/mnt/e2m-disk-fault 97% (1 MB free of 16 MB)',
      threshold: 'used per filesystem: warn at 80%, fail at 90%',
    });
    expect(judgeDisk(out(DF.split('\n').slice(0, 7).join('\n')))).toMatchObject({
      level: 'ok',
      summary: '3 filesystems under 80% (fullest / 40%)',
    });
  });
});

describe('warm colour', () => {
  // 2026-11-23T04:15:00Z: the end of green's window, 15 min after `now`
  const file = 'green 1795407300 v6\n--- container\n';
  it('names the warm colour, its release and the end of its window while it runs that release', () => {
    expect(judgeWarm(out(`${file}running v6\n`), ctx)).toMatchObject({
      level: 'ok',
      summary: 'v6 on green until 2026-11-23T04:15:00.000Z (900 s left): a rollback to it is just the switch',
    });
    expect(judgeWarm(out('--- container\n'), ctx)).toMatchObject({
      level: 'ok',
      summary: 'none: a rollback starts the parked colour (seconds)',
    });
  });
  it('warns when the warm colour is not running its release; says when its window ended', () => {
    expect(judgeWarm(out(`${file}exited v6\n`), ctx)).toMatchObject({
      level: 'warn',
      summary:
        'v6 on green until 2026-11-23T04:15:00.000Z (900 s left), but e2m-app-green is exited: a rollback starts it',
    });
    expect(judgeWarm(out(file), ctx).summary).toContain('but e2m-app-green is missing');
    const later = { ...ctx, now: new Date('2026-11-23T04:16:00Z') };
    expect(judgeWarm(out(`${file}running v6\n`), later).summary).toMatch(
      /^v6 on green window ended 2026-11-23T04:15:00.000Z, being parked/,
    );
  });
});

describe('units, containers, proxy, site', () => {
  it('fails on any failed unit', () => {
    expect(judgeUnits(out(''))).toMatchObject({ level: 'ok', summary: 'no failed units' });
    expect(judgeUnits(out('mariadb.service loaded failed failed MariaDB\n'))).toEqual({
      level: 'fail',
      summary: 'failed: mariadb.service',
      threshold: 'fail on any failed systemd unit',
    });
  });

  it('judges the active colour container and mentions the parked one', () => {
    const ps = (blue: string) =>
      `e2m-app-blue\t${blue}\tv7\ne2m-app-green\texited\tExited (0) 2 hours ago\tv6\n`;
    expect(judgeContainers(out(ps('running\tUp 3 hours (healthy)')), ctx)).toEqual({
      level: 'ok',
      summary: 'e2m-app-blue running, healthy (Up 3 hours (healthy)); e2m-app-green exited (v6)',
      threshold: 'fail unless the active colour runs and is healthy; warn while its health is starting',
    });
    expect(judgeContainers(out(ps('exited\tExited (137) 5 seconds ago')), ctx)).toMatchObject({
      level: 'fail',
      summary: 'e2m-app-blue exited, no healthcheck (Exited (137) 5 seconds ago); e2m-app-green exited (v6)',
    });
    expect(judgeContainers(out(ps('running\tUp 2 seconds (health: starting)')), ctx).level).toBe('warn');
    expect(judgeContainers(out(''), ctx)).toMatchObject({
      level: 'fail',
      summary: 'e2m-app-blue is missing',
    });
    expect(judgeContainers(out(''), { now })).toMatchObject({
      level: 'warn',
      summary: 'no active colour; 0 app containers',
    });
  });

  it('tells the proxy from the app behind it', () => {
    expect(judgeProxy(out('active 200\n{"status":"ready"}'))).toMatchObject({
      level: 'ok',
      summary: 'caddy active, answers 200',
    });
    expect(judgeProxy(out('inactive 000\n'))).toEqual({
      level: 'fail',
      summary: 'caddy is inactive',
      threshold: 'fail unless caddy is active and answers HTTPS on 443',
    });
    expect(judgeSite(out('active 502\n'), ctx)).toEqual({
      level: 'fail',
      summary: '/readyz 502: the proxy cannot reach the app',
      threshold:
        'fail unless /readyz through the proxy answers 200 (503 is expected while nothing is deployed)',
    });
    expect(judgeSite(out('active 503\n{"status":"unready","failed":["database"]}'), ctx)).toMatchObject({
      level: 'fail',
      summary: '/readyz 503: {"status":"unready","failed":["database"]}',
    });
    expect(
      judgeSite(out('active 503\n<html><head><title>Down for maintenance</title></head>'), { now }),
    ).toMatchObject({
      level: 'warn',
      summary: '/readyz 503: the maintenance page (nothing deployed)',
    });
    expect(
      judgeSite(out('active 503\n<html><head><title>Down for maintenance</title></head>'), ctx),
    ).toMatchObject({
      level: 'fail',
      summary: '/readyz 503: page "Down for maintenance"',
    });
  });
});

describe('database and redis', () => {
  it('needs the unit active and an answer', () => {
    expect(judgeDatabase(out('active\nmysqld is alive\n'))).toEqual({
      level: 'ok',
      summary: 'mariadb active, mysqld is alive',
      threshold: 'fail unless `mysqladmin ping` answers within 3 s',
    });
    expect(
      judgeDatabase(out('inactive\nmysqladmin: connect to server at localhost failed\n', 1)),
    ).toMatchObject({
      level: 'fail',
      summary: 'mariadb is inactive: mysqladmin: connect to server at localhost failed',
    });
    expect(judgeRedis(out('active\nNOAUTH Authentication required.\n')).level).toBe('ok');
    expect(judgeRedis(out('active\nPONG\n')).level).toBe('ok');
    expect(
      judgeRedis(out('active\nCould not connect to Redis at 127.0.0.1:6379: Connection refused\n')),
    ).toMatchObject({
      level: 'fail',
      summary: 'redis-server active but Could not connect to Redis at 127.0.0.1:6379: Connection refused',
    });
  });
});

describe('backup (issue 8 writes /var/lib/e2m-backup/last.json)', () => {
  const rec = (hoursAgo: number, ok = true) =>
    JSON.stringify({
      ok,
      finishedAt: new Date(now.getTime() - hoursAgo * 3_600_000).toISOString(),
      ...(ok
        ? { object: 'db/2026-11-23.sql.zst', bytes: 5 * 2 ** 20, durationMs: 900 }
        : { error: 'bucket unreachable' }),
    });
  it('judges missing, fresh, old, very old and failed', () => {
    expect(judgeBackup(out(''), ctx)).toEqual({
      level: 'warn',
      summary: 'no backup recorded (/var/lib/e2m-backup/last.json missing)',
      threshold: 'warn when none is recorded or the last is over 26 h old; fail over 50 h or when it failed',
    });
    expect(judgeBackup(out(rec(3)), ctx)).toMatchObject({
      level: 'ok',
      summary: 'last backup 3.0 h ago: db/2026-11-23.sql.zst (5 MB)',
    });
    expect(judgeBackup(out(rec(30)), ctx)).toMatchObject({
      level: 'warn',
      summary: 'last backup 30.0 h ago: db/2026-11-23.sql.zst (5 MB)',
    });
    expect(judgeBackup(out(rec(51)), ctx).level).toBe('fail');
    expect(judgeBackup(out(`${rec(3)}\n--- unit\nResult=success\n`), ctx).level).toBe('ok');
    expect(judgeBackup(out(`${rec(3)}\n--- unit\nResult=exit-code\n`), ctx)).toMatchObject({
      level: 'fail',
      summary: 'e2m-backup.service failed (exit-code) after the last recorded backup 3.0 h ago',
    });
    expect(judgeBackup(out('\n--- unit\nResult=timeout\n'), ctx)).toMatchObject({
      level: 'fail',
      summary: 'no backup recorded and e2m-backup.service failed (timeout)',
    });
    expect(judgeBackup(out('\n--- unit\nResult=success\n'), ctx).level).toBe('warn');
    expect(judgeBackup(out(rec(1, false)), ctx)).toMatchObject({
      level: 'fail',
      summary: 'last backup FAILED 60 min ago: bucket unreachable',
    });
  });
});

describe('binlog shipping (/var/lib/e2m-backup/binlog.json)', () => {
  const state = (secondsAgo: number, unit = 'enabled\nResult=success') =>
    `${JSON.stringify({ lineage: 'a1b2c3d4e5f6', shippedAt: new Date(now.getTime() - secondsAgo * 1000).toISOString() })}\n--- unit\n${unit}\n`;
  it('judges off, not yet, fresh, lagging and stalled', () => {
    expect(judgeBinlog(out('\n--- unit\nnot-found\n'), ctx)).toMatchObject({
      level: 'ok',
      summary: 'binlog shipping is off (no point-in-time recovery; nightly dumps only)',
    });
    expect(judgeBinlog(out('\n--- unit\nenabled\n'), ctx).level).toBe('warn');
    expect(judgeBinlog(out(state(40)), ctx)).toMatchObject({
      level: 'ok',
      summary: 'binlogs shipped 40 s ago',
    });
    expect(judgeBinlog(out(state(400, 'enabled\nResult=exit-code')), ctx)).toMatchObject({
      level: 'warn',
      summary: 'binlogs shipped 7 min ago; e2m-binlog.service last exit-code',
    });
    expect(judgeBinlog(out(state(1000, 'disabled')), ctx)).toMatchObject({
      level: 'fail',
      summary: 'binlogs shipped 17 min ago; its timer is not enabled',
    });
  });
});

describe('OOM kills', () => {
  const line = (time: string, memcg: string, task: string) =>
    `${time},123456+00:00 oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=${memcg},task_memcg=${memcg}/inner/x,task=${task},pid=42,uid=0`;
  it('counts kills within 24 h in this host cgroup only', () => {
    const text = [
      '12:memory:/docker/abc',
      '--- dmesg',
      line('2026-11-23T03:00:00', '/docker/abc', 'dd'),
      line('2026-11-23T03:10:00', '/docker/other-twin', 'stress'),
      line('2026-11-21T03:00:00', '/docker/abc', 'old'),
    ].join('\n');
    expect(judgeOom(out(text), ctx)).toEqual({
      level: 'warn',
      summary: '1 in the last 24 h; latest dd at 2026-11-23T03:00:00.123Z',
      threshold: 'warn on any OOM kill in the last 24 h',
    });
    expect(judgeOom(out('0::/init.scope\n--- dmesg\n'), ctx)).toMatchObject({
      level: 'ok',
      summary: 'none in the last 24 h',
    });
    // A VM: PID 1 is in the root cgroup, so every kill counts.
    expect(
      judgeOom(
        out(
          `0::/init.scope\n--- dmesg\n${line('2026-11-23T03:00:00', '/system.slice/docker-x.scope', 'server')}`,
        ),
        ctx,
      ).level,
    ).toBe('warn');
  });
});

describe('certificate', () => {
  const cert = (from: string, to: string) => `notBefore=${from}\nnotAfter=${to}\n`;
  it('judges the share of the lifetime left', () => {
    expect(judgeCertificate(out(cert('Nov  1 00:00:00 2026 GMT', 'Jan 30 00:00:00 2027 GMT')), ctx)).toEqual({
      level: 'ok',
      summary: 'expires in 67.8 d (2027-01-30T00:00:00.000Z)',
      threshold: 'share of its lifetime left: warn under 1/4, fail under 1/12 (Caddy renews at 1/3)',
    });
    expect(
      judgeCertificate(out(cert('Sep  1 00:00:00 2026 GMT', 'Nov 30 00:00:00 2026 GMT')), ctx).level,
    ).toBe('fail');
    expect(
      judgeCertificate(out(cert('Aug 1 00:00:00 2026 GMT', 'Nov 1 00:00:00 2026 GMT')), ctx).summary,
    ).toBe('EXPIRED 22.2 d ago (2026-11-01T00:00:00.000Z)');
    expect(judgeCertificate(out('', 1, ''), ctx)).toMatchObject({
      level: 'fail',
      summary: 'no certificate read on 127.0.0.1:443',
    });
  });
});

describe('kill switch', () => {
  it('warns while on', () => {
    expect(judgeKillSwitch(out('{"on":false,"source":"none"}\n'))).toMatchObject({
      level: 'ok',
      summary: 'off',
    });
    expect(
      judgeKillSwitch(
        out('{"on":true,"reason":"incident 42","since":"2026-11-23T03:59:00.000Z","source":"redis"}\n'),
      ),
    ).toEqual({
      level: 'warn',
      summary: 'ON since 2026-11-23T03:59:00.000Z: incident 42 (redis)',
      threshold: 'warn while on: every route but health answers 503 on purpose',
    });
  });

  it('is ok when the app offers no kill switch (optional in the contract); fails when it cannot say', () => {
    expect(judgeKillSwitch(out('', 2, 'unknown command: kill-switch (serve | migrate)'))).toMatchObject({
      level: 'ok',
      summary: 'not offered by this app (optional: docs/app-contract.md)',
    });
    expect(
      judgeKillSwitch(out('', 127, 'OCI runtime exec failed: exec: "/app/server": no such file')),
    ).toMatchObject({ level: 'ok' });
    expect(judgeKillSwitch(out('', 1, 'error: redis down'))).toMatchObject({
      level: 'fail',
      summary: 'kill-switch status: exit 1: error: redis down',
    });
  });
});
