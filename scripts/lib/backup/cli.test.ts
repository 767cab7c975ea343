// Each backup command through the recording runner (prune through an in-memory bucket), with no
// SSH: the exact commands on the VM, the Result's exit code, --json and text.
import type { Bucket } from '@google-cloud/storage';
import { describe, expect, it } from 'vitest';
import { createContext } from '../cli/context.ts';
import { RecordingRunner, type RunResult } from '../runner.ts';
import type { Target } from '../target.ts';
import { type BackupIo, build, dispatch, prune } from './cli.ts';
import { identityPath } from './commands.ts';
import { objectName, parseObjectName } from './plan.ts';

const target = {
  name: 'twin',
  env: 'twin',
  bucket: 'e2m-twin-backups',
  inventoryFile: 'inventory/twin.yml',
} as Target;

function io(respond: (line: string) => Partial<RunResult> | undefined, json = false) {
  const vm = new RecordingRunner((argv) => respond(argv.join(' ')));
  const x: BackupIo = {
    ctx: createContext(json, { write: () => {} }),
    target,
    vm,
    readFile: (p) => {
      if (p === '/keys/age.txt') return 'AGE-SECRET-KEY-1TEST';
      throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    },
    pid: 7,
  };
  return { io: x, vm };
}

const inv = (command: string, rest: string[] = [], values: Record<string, string | boolean> = {}) => ({
  command,
  rest,
  values: { target: 'twin', ...values },
});

describe('backup run', () => {
  it('starts the unit and reports the last run: ok is exit 0', async () => {
    const last = { ok: true, object: 'twin/2026-12-02.sql.zst', bytes: 2_500_000, durationMs: 4_200 };
    const { io: x, vm } = io((l) => (l.includes('cat') ? { stdout: JSON.stringify(last) } : undefined));
    const r = await dispatch(x, inv('run'));
    expect(vm.commands).toEqual([
      'sudo -n systemctl start e2m-backup.service',
      'sudo -n cat /var/lib/e2m-backup/last.json',
    ]);
    expect(r).toMatchObject({ code: 0, json: last });
    expect(r.text).toMatch(
      /^backup ok: gs:\/\/e2m-twin-backups\/twin\/2026-12-02\.sql\.zst \(2\.5 MB in 4\.2s/,
    );
  });

  it('a failed unit is exit 1 with the error; --dry-run asks the job and starts nothing', async () => {
    const { io: x } = io((l) =>
      l.includes('systemctl')
        ? { code: 1, stderr: 'Job failed' }
        : { stdout: '{"ok":false,"error":"dump: gone"}' },
    );
    const r = await dispatch(x, inv('run'));
    expect(r.code).toBe(1);
    expect(r.text).toContain('backup FAILED: dump: gone');
    const dry = io(() => ({ stdout: '{"script":"mariadb-dump | zstd"}' }));
    const d = await dispatch(dry.io, inv('run', [], { 'dry-run': true }));
    expect(dry.vm.commands).toEqual(['sudo -n /usr/local/lib/e2-micro/e2m-backup run --dry-run --json']);
    expect(d.json).toMatchObject({
      ok: true,
      dryRun: true,
      command: 'sudo -n systemctl start e2m-backup.service',
    });
    expect(d.text).toBe(
      'would run on recording: sudo -n systemctl start e2m-backup.service\nmariadb-dump | zstd',
    );
  });

  it('--from-defaults-file runs the job directly, as its user', async () => {
    const { io: x, vm } = io(() => ({ stdout: '{"ok":true}' }));
    await dispatch(x, inv('run', [], { 'from-defaults-file': '/etc/e2m-backup/c.cnf' }));
    expect(vm.commands).toEqual([
      'sudo -n -u e2m-backup /usr/local/lib/e2-micro/e2m-backup run --from-defaults-file /etc/e2m-backup/c.cnf --json',
    ]);
  });
});

describe('backup list', () => {
  it('prints newest first with "!" for an incomplete one; --json passes the job line through', async () => {
    const entries = [
      { object: 'twin/b', at: '2026-12-02T03:00:00Z', bytes: 1e6, complete: true },
      { object: 'twin/a', at: '2026-12-01T03:00:00Z', bytes: 2e5, complete: false },
    ];
    const line = JSON.stringify(entries);
    const { io: x, vm } = io(() => ({ stdout: `progress\n${line}\n` }));
    const r = await dispatch(x, inv('list'));
    expect(vm.commands).toEqual(['sudo -n -u e2m-backup /usr/local/lib/e2-micro/e2m-backup list --json']);
    expect(r.json).toBe(line);
    expect(r.text?.split('\n').slice(0, 2)).toEqual([
      '  2026-12-02T03:00:00Z       1.0 MB  twin/b',
      '! 2026-12-01T03:00:00Z       0.2 MB  twin/a',
    ]);
    const forged = [
      { object: 'twin/z', at: '2026-12-02T04:00:00Z', bytes: 1e3, complete: true, rejected: 'is forged' },
    ];
    const { io: y } = io(() => ({ stdout: `${JSON.stringify(forged)}\n` }));
    expect((await dispatch(y, inv('list'))).text?.split('\n').slice(0, 3)).toEqual([
      'x 2026-12-02T04:00:00Z       0.0 MB  twin/z',
      '    rejected: it is forged',
      "(x = rejected: never restored, counted or pruned; times are GCS's)",
    ]);
    const none = await dispatch(io(() => ({ stdout: '[]' })).io, inv('list'));
    expect(none.text).toMatch(/^no backups in gs:\/\/e2m-twin-backups\/twin\//);
  });
});

describe('backup restore', () => {
  /** The VM's answers for a restore over production: serving blue, its kill switch `on`. */
  const serving =
    (on: boolean | 'none', over: (l: string) => Partial<RunResult> | undefined = () => undefined) =>
    (l: string): Partial<RunResult> | undefined =>
      over(l) ??
      (l.includes('state.json')
        ? { stdout: on === 'none' ? '' : '{"colour":"blue","release":"r1"}' }
        : l.includes('kill-switch status')
          ? { stdout: JSON.stringify({ on }) }
          : l.includes('last.json')
            ? { stdout: '{"ok":true,"object":"twin/safety.sql.zst","bytes":1000,"durationMs":900}' }
            : { stdout: '{"ok":true}' });
  const READ_STATE = `sudo -n sh -c 'cat "$1" 2>/dev/null || true' sh /srv/app/state.json`;
  const KILL_STATUS = 'sudo -n docker exec e2m-app-blue /app/server kill-switch status';
  const SAFETY = ['sudo -n systemctl start e2m-backup.service', 'sudo -n cat /var/lib/e2m-backup/last.json'];

  it('--force over production: the kill switch must be on, a safety dump first, then the job as root with the key on tmpfs', async () => {
    const { io: x, vm } = io(serving(true));
    const r = await dispatch(
      x,
      inv('restore', ['twin/b'], { force: true, identity: '/keys/age.txt', 'to-database': 'app' }),
    );
    const key = identityPath(7);
    expect(vm.commands).toEqual([
      READ_STATE,
      KILL_STATUS,
      ...SAFETY,
      `sudo -n install -m 0400 -o root /dev/stdin ${key}`,
      `sudo -n /usr/local/lib/e2-micro/e2m-backup restore --identity ${key} twin/b --to-database app --force --json`,
      `sudo -n rm -f ${key}`,
    ]);
    expect(vm.calls[4]).toMatchObject({ input: 'AGE-SECRET-KEY-1TEST' });
    expect(r).toMatchObject({ code: 0, json: { ok: true, safetyDump: 'twin/safety.sql.zst' } });
    expect(r.text?.split('\n').at(-1)).toBe(
      'safety dump taken before it: twin/safety.sql.zst (restore it to undo)',
    );
  });

  it('--force over production is refused while the app takes writes; --online restores anyway, after the safety dump', async () => {
    const off = io(serving(false));
    await expect(
      dispatch(off.io, inv('restore', ['twin/b'], { force: true, 'to-database': 'app' })),
    ).rejects.toMatchObject({
      code: 1,
      message:
        'refusing to restore over app on recording: the app is taking writes (kill switch off): turn it on first (npm run incident -- kill-switch on), or pass --online to restore while the app serves',
    });
    expect(off.vm.commands).toEqual([READ_STATE, KILL_STATUS]);
    const online = io(serving(false));
    const r = await dispatch(
      online.io,
      inv('restore', ['twin/b'], { force: true, 'to-database': 'app', online: true }),
    );
    expect(r.code).toBe(0);
    expect(online.vm.commands).toEqual([
      ...SAFETY,
      'sudo -n /usr/local/lib/e2-micro/e2m-backup restore twin/b --to-database app --force --json',
    ]);
    // Nothing deployed: nothing writes, no kill switch to ask.
    const empty = io(serving('none'));
    expect(
      (await dispatch(empty.io, inv('restore', ['twin/b'], { force: true, 'to-database': 'app' }))).code,
    ).toBe(0);
    expect(empty.vm.commands.slice(0, 3)).toEqual([READ_STATE, ...SAFETY]);
  });

  it('a failed safety dump restores nothing; another server (--to-defaults-file) needs neither', async () => {
    const failing = io(
      serving(true, (l) =>
        l.includes('systemctl')
          ? { code: 1, stderr: 'Job failed' }
          : l.includes('last.json')
            ? { stdout: '{"ok":false,"error":"dump=2: Access denied"}' }
            : undefined,
      ),
    );
    await expect(
      dispatch(failing.io, inv('restore', ['twin/b'], { force: true, 'to-database': 'app' })),
    ).rejects.toMatchObject({
      message: 'the safety dump failed, so nothing was restored: dump=2: Access denied',
    });
    expect(failing.vm.commands.some((c) => c.includes('e2m-backup restore'))).toBe(false);
    const other = io(serving(false));
    const r = await dispatch(
      other.io,
      inv('restore', ['twin/b'], {
        force: true,
        'to-database': 'growth',
        'to-defaults-file': '/etc/e2m-backup/c.cnf',
      }),
    );
    expect(r.code).toBe(0);
    expect(other.vm.commands).toEqual([
      'sudo -n /usr/local/lib/e2-micro/e2m-backup restore twin/b --to-database growth --to-defaults-file /etc/e2m-backup/c.cnf --force --json',
    ]);
  });

  it('--force --dry-run says the steps and changes nothing', async () => {
    const { io: x, vm } = io(() => ({ stdout: 'would restore twin/b into app' }));
    const r = await dispatch(
      x,
      inv('restore', ['twin/b'], { force: true, 'to-database': 'app', 'dry-run': true }),
    );
    expect(vm.commands).toEqual([
      'sudo -n /usr/local/lib/e2-micro/e2m-backup restore twin/b --to-database app --force --dry-run --json',
    ]);
    expect(r.text?.split('\n')).toEqual([
      'check that the kill switch is on',
      'take a safety dump: sudo -n systemctl start e2m-backup.service',
      'would restore twin/b into app',
    ]);
  });

  it('an unreadable --identity is a usage error before anything runs; a failed job is exit 1', async () => {
    const { io: x, vm } = io(() => undefined);
    await expect(dispatch(x, inv('restore', [], { identity: '/nope' }))).rejects.toMatchObject({
      code: 2,
      message: '--identity /nope: ENOENT',
    });
    expect(vm.commands).toEqual([]);
    const failed = await dispatch(
      io(() => ({ code: 1, stderr: 'no such object' })).io,
      inv('restore', ['x']),
    );
    expect(failed.code).toBe(1);
    expect(failed.json).toBe('{"ok":false,"error":"no such object"}');
    expect(failed.text).toContain('no such object');
  });
});

describe('backup verify', () => {
  it('a table per line; a mismatch is exit 1', async () => {
    const report = {
      object: 'twin/b',
      ok: false,
      restoreMs: 1500,
      tables: [
        { table: 'notes', ok: false, restored: { rows: 3 }, production: { rows: 4 } },
        { table: 'mikro_orm_migrations', ok: true, restored: { rows: 2 }, production: { rows: 2 } },
      ],
    };
    const { io: x, vm } = io(() => ({ code: 1, stdout: JSON.stringify(report) }));
    const r = await dispatch(x, inv('verify'));
    expect(vm.commands).toEqual(['sudo -n -u e2m-backup /usr/local/lib/e2-micro/e2m-backup verify --json']);
    expect(r.code).toBe(1);
    expect(r.text?.split('\n').slice(0, 3)).toEqual([
      'verify twin/b: FAILED (restore 1.5s)',
      '  FAIL notes: rows 3 / 4',
      '  ok   mikro_orm_migrations: rows 2 / 2',
    ]);
  });
});

describe('backup prune', () => {
  /** The part of a Bucket prune uses, in memory: names, sizes, manifests, deletes. */
  function bucket(names: string[]) {
    const body = (n: string) =>
      n.endsWith('.json') ? JSON.stringify({ object: n.slice(0, -5), bytes: 1, md5: 'bWQ1' }) : 'x';
    const files = new Map(names.map((n) => [n, body(n)]));
    // GCS's own fields: created a second after the time in the name, as a genuine run's upload.
    const created = (n: string) =>
      new Date((parseObjectName(n.replace(/\.json$/, ''))?.at.getTime() ?? 0) + 1000);
    const b = {
      getMetadata: async () => [{}],
      getFiles: async () => [
        [...files.keys()].map((name) => ({
          name,
          metadata: { size: 1, md5Hash: 'bWQ1', timeCreated: created(name).toISOString() },
        })),
      ],
      file: (name: string) => ({
        download: async () => [Buffer.from(files.get(name) ?? '')],
        delete: async () => {
          files.delete(name);
        },
      }),
    };
    return { bucket: b as unknown as Bucket, files };
  }

  it('keeps the policy, deletes the rest with manifests; --dry-run deletes nothing', async () => {
    const days = ['01', '02', '03', '04'].map((d) =>
      objectName('twin', new Date(`2026-12-${d}T03:00:00Z`), 'v1'),
    );
    const names = days.flatMap((d) => [d, `${d}.json`]);
    const ctx = createContext(false, { write: () => {} });
    const o = { daily: '1', weekly: '0', keepNewest: '1', minAgeDays: '0', now: '2026-12-04T12:00:00Z' };
    const dry = bucket(names);
    const d = await prune(ctx, target, { ...o, dryRun: true }, dry.bucket);
    expect(dry.files.size).toBe(8);
    expect(d.code).toBe(0);
    const real = bucket(names);
    const r = await prune(ctx, target, { ...o, dryRun: false }, real.bucket);
    expect([...real.files.keys()]).toEqual([days[3], `${days[3]}.json`]);
    expect(r.json).toMatchObject({
      ok: true,
      dryRun: false,
      policy: { daily: 1, weekly: 0, newest: 1, minAgeDays: 0 },
      kept: [days[3]],
      rejected: [],
    });
    expect(r.text?.split('\n').at(-1)).toMatch(/^1 kept, 3 deleted, 0 rejected \(\d+\.\ds\)$/);
    await expect(prune(ctx, target, { daily: 'x', dryRun: true }, dry.bucket)).rejects.toMatchObject({
      code: 2,
      message: '--daily must be an integer 0..1000 (got "x")',
    });
  });
});

describe('backup build', () => {
  it('reports the binary and whether it was built', async () => {
    const ctx = createContext(true, { write: () => {} });
    const r = await build(ctx, '/repo', async () => ({
      path: '/cache/e2m-backup-abc',
      hash: 'abc',
      built: false,
    }));
    expect(r).toMatchObject({ code: 0, json: { ok: true, path: '/cache/e2m-backup-abc', built: false } });
    expect(r.text).toMatch(/^up to date: \/cache\/e2m-backup-abc \(\d+\.\ds\)$/);
  });
});
