// runStatus through the recording runner: which commands run, in which order, each once, and
// how their answers become findings.
import { describe, expect, it } from 'vitest';
import { RecordingRunner } from '../runner.ts';
import { renderFindings, runStatus } from './status.ts';

const STATE = '{"colour":"blue","release":"v7","image":"e2m/backend:v7","since":"2026-11-22T10:00:00Z"}';

function vm(overrides: Record<string, { stdout?: string; code?: number }> = {}) {
  return new RecordingRunner((argv) => {
    const line = argv.join(' ');
    const pick = (key: string, fallback: { stdout?: string; code?: number }) => overrides[key] ?? fallback;
    if (line.includes('state.json')) return pick('release', { stdout: STATE });
    if (line.includes('/proc/loadavg')) return pick('load', { stdout: '90000 1\n0.1 0.1 0.1 1/1 1\n2\n' });
    if (line.includes('/proc/meminfo'))
      return pick('memory', {
        stdout:
          'MemTotal: 1000000 kB\nMemAvailable: 600000 kB\nSwapTotal: 1000000 kB\nSwapFree: 1000000 kB\n--- cgroup\n',
      });
    if (argv[0] === 'df')
      return pick('disk', {
        stdout: 'Filesystem Type 1B-blocks Used Avail Mounted on\n/dev/sda1 ext4 100 40 60 /\n',
      });
    if (line.includes('--failed')) return pick('units', { stdout: '' });
    if (line.includes('/srv/app/warm'))
      return pick('warm', { stdout: 'green 1795407300 v6\n--- container\nrunning v6\n' });
    if (line.includes('docker ps'))
      return pick('containers', { stdout: 'e2m-app-blue\trunning\tUp 1 hour (healthy)\tv7\n' });
    if (line.includes('systemctl is-active caddy'))
      return pick('proxy', { stdout: 'active 200\n{"status":"ready"}' });
    if (line.includes('mysqladmin')) return pick('database', { stdout: 'active\nmysqld is alive\n' });
    if (line.includes('redis-cli')) return pick('redis', { stdout: 'active\nPONG\n' });
    if (line.includes('last.json'))
      return pick('backup', {
        stdout:
          '{"ok":true,"finishedAt":"2026-11-23T01:00:00Z","object":"db.sql.zst","bytes":1048576,"durationMs":5}',
      });
    if (line.includes('binlog.json'))
      return pick('binlog', {
        stdout:
          '{"lineage":"a1b2c3d4e5f6","shippedAt":"2026-11-23T03:59:30Z"}\n--- unit\nenabled\nResult=success\n',
      });
    if (line.includes('dmesg')) return pick('oom', { stdout: '0::/init.scope\n--- dmesg\n' });
    if (line.includes('openssl'))
      return pick('certificate', {
        stdout: 'notBefore=Nov  1 00:00:00 2026 GMT\nnotAfter=Jan 30 00:00:00 2027 GMT\n',
      });
    if (line.includes('kill-switch status'))
      return pick('kill-switch', { stdout: '{"on":false,"source":"none"}' });
    return { code: 127, stderr: `unexpected: ${line}` };
  });
}

const now = () => new Date('2026-11-23T04:00:00Z');

describe('runStatus', () => {
  it('runs every probe once, in order, sequentially, and judges a healthy VM ok', async () => {
    const runner = vm();
    const report = await runStatus(runner, { domain: 'example.com', now });
    const cmds = runner.commands;
    expect(cmds).toHaveLength(15);
    expect(new Set(cmds).size).toBe(15);
    expect(cmds[0]).toBe(`sudo -n sh -c 'cat "$1" 2>/dev/null || true' sh /srv/app/state.json`);
    expect(cmds[3]).toBe('df -B1 --output=source,fstype,size,used,avail,target');
    expect(cmds[14]).toBe('sudo -n docker exec e2m-app-blue /app/server kill-switch status');
    expect(report.findings.map((f) => `${f.level} ${f.id}`)).toEqual([
      'ok release',
      'ok load',
      'ok memory',
      'ok swap',
      'ok disk',
      'ok units',
      'ok containers',
      'ok warm',
      'ok proxy',
      'ok site',
      'ok database',
      'ok redis',
      'ok kill-switch',
      'ok backup',
      'ok binlog',
      'ok oom',
      'ok certificate',
    ]);
    expect(report).toMatchObject({ ok: true, level: 'ok', active: { colour: 'blue', release: 'v7' } });
  });

  it('a stopped database fails its line and the site line; the report fails', async () => {
    const report = await runStatus(
      vm({
        database: { stdout: 'inactive\nmysqladmin: connect to server at localhost failed\n', code: 1 },
        proxy: { stdout: 'active 503\n{"status":"unready","failed":["database"]}' },
      }),
      { domain: 'example.com', now },
    );
    expect(report.findings.filter((f) => f.level !== 'ok').map((f) => `${f.id}: ${f.summary}`)).toEqual([
      'site: /readyz 503: {"status":"unready","failed":["database"]}',
      'database: mariadb is inactive: mysqladmin: connect to server at localhost failed',
    ]);
    expect(report).toMatchObject({ ok: false, level: 'fail' });
  });

  it('an unreadable state.json fails the release line and skips the kill switch', async () => {
    const runner = vm({ release: { stdout: '{"colour":"purple"}' } });
    const report = await runStatus(runner, { domain: 'example.com', now });
    expect(report.findings[0]).toMatchObject({
      id: 'release',
      level: 'fail',
      summary: 'state.json: unexpected content: {"colour":"purple"}',
    });
    expect(runner.commands.some((c) => c.includes('kill-switch'))).toBe(false);
  });

  it('renders one aligned line per finding with its threshold', () => {
    expect(
      renderFindings([
        { id: 'a', title: 'disk', level: 'fail', summary: '/ 95%', threshold: 'fail at 90%', ms: 1 },
        { id: 'b', title: 'database', level: 'ok', summary: 'alive', threshold: 'ping', ms: 1 },
      ]),
    ).toBe('fail  disk      / 95%  [fail at 90%]\nok    database  alive  [ping]');
  });
});
