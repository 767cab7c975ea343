// The VM job's command line through a recording I/O: what each command prints, writes, locks
// and exits with, and every failure path, with no MariaDB or GCS (test/backup/ runs the compiled
// job against real ones).
import { describe, expect, it } from 'vitest';
import type { RunResult, VerifyReport } from './job.ts';
import { JOB_HELP, type JobIo, listAnswer, runJob, verifyText } from './job-cli.ts';
import type { BackupConfig, BackupEntry } from './plan.ts';

const cfg: BackupConfig = {
  env: 'test',
  bucket: 'e2m-test-backups',
  projectId: 'e2m-test',
  gcsEndpoint: '',
  gcsAuth: false,
  database: 'app',
  defaultsFile: '/etc/e2m-backup/client.cnf',
  restoreDefaultsFile: '/etc/e2m-backup/restore.cnf',
  releaseFile: '/var/lib/e2m-backup/state.json',
  zstdLevel: 3,
  sentryDsn: '',
  progressBytes: 1e6,
  stateDir: '/var/lib/e2m-backup',
  ageRecipients: [],
  binlog: false,
  binlogOnCalendar: '*:*:00',
  schedule: { onCalendar: '*-*-* 03:15:00', randomizedDelay: '15min', timeout: '1h' },
};

const NOW = new Date('2026-12-02T03:00:00.000Z');

const entry = (object: string, complete = true, bytes = 2_500_000): BackupEntry => ({
  object,
  at: new Date('2026-12-01T03:00:00.000Z'),
  namedAt: new Date('2026-12-01T03:00:00.000Z'),
  release: '20261123-abc1234',
  bytes,
  encrypted: false,
  complete,
  ...(complete ? { manifest: { sha256: 'ab12' } as BackupEntry['manifest'] } : {}),
});

const OBJECT = 'test/2026-12-01/test-20261201T030000.000Z-20261123-abc1234.sql.zst';

class Exited extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** A JobIo that records what the job did; `over` replaces any of its parts. */
function recording(over: Partial<JobIo> = {}) {
  const rec = {
    stdout: [] as string[],
    stderr: [] as string[],
    files: new Map<string, string>(),
    events: [] as string[],
    sigterm: undefined as (() => void) | undefined,
    calls: [] as unknown[][],
  };
  const io: JobIo = {
    stdout: (line) => rec.stdout.push(line),
    stderr: (line) => rec.stderr.push(line),
    now: () => NOW,
    loadConfig: (file) => {
      rec.events.push(`config ${file}`);
      return cfg;
    },
    writeFile: (path, text) => rec.files.set(path, text),
    acquireLock: (file) => {
      rec.events.push(`lock ${file}`);
      return () => rec.events.push(`unlock ${file}`);
    },
    onSigterm: (handler) => {
      rec.sigterm = handler;
    },
    exit: (code) => {
      throw new Exited(code);
    },
    runBackup: async (c, now, log) => {
      rec.calls.push(['runBackup', c, now]);
      log('progress', { bytes: 1 });
      return { object: OBJECT, bytes: 2_500_000, sha256: 'ab12', durationMs: 1500, maxRssKb: 40_000 };
    },
    memory: () => ({ maxRssKb: 41_000 }),
    startCheckIn: async () => {
      rec.calls.push(['checkIn', 'in_progress']);
      return {
        finish: async (e) => {
          rec.calls.push(['checkIn', e ? `error: ${e.message}` : 'ok']);
        },
      };
    },
    shipBinlogs: async () => {
      rec.calls.push(['shipBinlogs']);
      return {
        lineage: 'a1b2c3d4e5f6',
        flushed: true,
        shipped: ['e2m-bin.000007'],
        bytes: 4096,
        purgedTo: 'e2m-bin.000008',
        durationMs: 120,
        cpuMs: 40,
        maxRssKb: 39_000,
      };
    },
    restoreToTime: async (_c, toTime, opts) => {
      const at = toTime === 'latest' ? new Date('2026-12-02T02:59:59Z') : toTime;
      rec.calls.push(['restoreToTime', at.toISOString(), opts]);
      return {
        database: opts.toDatabase ?? 'e2m_scratch_restore',
        base: OBJECT,
        binlogs: ['e2m-bin.000003', 'e2m-bin.000004'],
        toTime: at.toISOString(),
        durationMs: 5300,
      };
    },
    pitrWindow: async () => undefined,
    drillPointInTime: async () => {
      rec.calls.push(['drillPointInTime']);
      return { ok: true, toTime: '2026-12-02T02:59:30.000Z', binlogs: ['e2m-bin.000007'] };
    },
    listBackups: async () => [entry(OBJECT), entry(`${OBJECT}.partial`, false, 100_000)],
    findBackup: async (_c, choice) => entry(choice.object ?? OBJECT),
    restoreBackup: async (c, e, opts) => {
      rec.calls.push(['restoreBackup', c, e.object, opts]);
      return { database: opts.toDatabase ?? 'e2m_scratch_restore', durationMs: 4200 };
    },
    verifyBackup: async (_c, e, _log, identity) => {
      rec.calls.push(['verifyBackup', e.object, identity]);
      return report(true);
    },
    ...over,
  };
  return { io, rec };
}

const report = (ok: boolean): VerifyReport => ({
  object: OBJECT,
  ok,
  restoreMs: 3100,
  tables: [
    {
      table: 'note',
      ok,
      production: { rows: 5000, checksum: '77' },
      restored: { rows: ok ? 5000 : 4999, checksum: ok ? '77' : '76' },
    },
  ],
});

const json = (line: string) => JSON.parse(line) as Record<string, unknown>;

describe('e2m-backup usage', () => {
  it('--help prints the help and exits 0; no command prints it and exits 2', async () => {
    const help = recording();
    expect(await runJob(['--help'], help.io)).toBe(0);
    expect(await runJob(['-h', 'run'], help.io)).toBe(0);
    expect(help.rec.stdout).toEqual([JOB_HELP, JOB_HELP]);
    const none = recording();
    expect(await runJob([], none.io)).toBe(2);
    expect(none.rec.stdout).toEqual([JOB_HELP]);
    expect(JOB_HELP).toContain('Options: --config FILE (default /etc/e2m-backup/backup.env)');
  });

  it('reads the config before the command: a bad one exits 2 naming it, even for an unknown command', async () => {
    const { io, rec } = recording({
      loadConfig: (file) => {
        throw new Error(`cannot read the backup config ${file}: ENOENT`);
      },
    });
    expect(await runJob(['bogus', '--config', '/nonexistent'], io)).toBe(2);
    expect(rec.stderr).toEqual(['e2m-backup: cannot read the backup config /nonexistent: ENOENT']);
  });

  it('an unknown command exits 2 with the help, a name from Object.prototype included', async () => {
    for (const word of ['bogus', 'toString']) {
      const { io, rec } = recording();
      expect(await runJob([word], io)).toBe(2);
      expect(rec.stderr).toEqual([`e2m-backup: unknown command ${word}\n\n${JOB_HELP}`]);
      expect(rec.events).toEqual(['config /etc/e2m-backup/backup.env']);
    }
  });

  it('an unknown option is a usage error naming it, exit 2, before any config is read', async () => {
    const { io, rec } = recording();
    expect(await runJob(['run', '--bogus'], io)).toBe(2);
    expect(rec.stderr).toEqual([
      expect.stringMatching(/^e2m-backup: Unknown option '--bogus'.* \(see --help\)$/),
    ]);
    expect(rec.events).toEqual([]);
  });
});

describe('e2m-backup run', () => {
  it('takes the lock, runs, records last.json, logs done, releases the lock', async () => {
    const { io, rec } = recording();
    expect(await runJob(['run'], io)).toBe(0);
    expect(rec.events).toEqual([
      'config /etc/e2m-backup/backup.env',
      'lock /var/lib/e2m-backup/lock',
      'unlock /var/lib/e2m-backup/lock',
    ]);
    expect(rec.calls).toEqual([
      ['checkIn', 'in_progress'],
      ['runBackup', cfg, NOW],
      ['checkIn', 'ok'],
    ]);
    expect(rec.files.get('/var/lib/e2m-backup/last.json')).toBe(
      `${JSON.stringify({ ok: true, object: OBJECT, bytes: 2_500_000, durationMs: 1500, finishedAt: NOW.toISOString() })}\n`,
    );
    expect(rec.stdout.map(json)).toEqual([
      { job: 'e2m-backup', event: 'progress', time: NOW.toISOString(), bytes: 1 },
      {
        job: 'e2m-backup',
        event: 'done',
        time: NOW.toISOString(),
        object: OBJECT,
        bytes: 2_500_000,
        sha256: 'ab12',
        durationMs: 1500,
        maxRssKb: 40_000,
      } satisfies Record<string, unknown> & RunResult,
    ]);
  });

  it('a failed run exits 1: last.json says why, the log adds memory, Sentry hears of it, no lock is left', async () => {
    const { io, rec } = recording({
      runBackup: async () => {
        throw new Error('dump failed (dump=2: Unknown database)');
      },
    });
    expect(await runJob(['run'], io)).toBe(1);
    expect(json(rec.files.get('/var/lib/e2m-backup/last.json') ?? '')).toEqual({
      ok: false,
      error: 'dump failed (dump=2: Unknown database)',
      finishedAt: NOW.toISOString(),
    });
    expect(json(rec.stdout[0])).toMatchObject({
      event: 'failed',
      error: 'dump failed (dump=2: Unknown database)',
      maxRssKb: 41_000,
    });
    expect(rec.calls).toEqual([
      ['checkIn', 'in_progress'],
      ['checkIn', 'error: dump failed (dump=2: Unknown database)'],
    ]);
    expect(rec.events.at(-1)).toBe('unlock /var/lib/e2m-backup/lock');
  });

  it('a Sentry report that fails is logged, and the run still exits 1', async () => {
    const { io, rec } = recording({
      runBackup: async () => {
        throw new Error('upload failed');
      },
      startCheckIn: async () => ({
        finish: async () => {
          throw new Error('sentry unreachable');
        },
      }),
    });
    expect(await runJob(['run'], io)).toBe(1);
    expect(rec.stdout.map(json).map((l) => [l.event, l.error])).toEqual([
      ['failed', 'upload failed'],
      ['sentry-failed', 'sentry unreachable'],
    ]);
  });

  it('a check-in that cannot start is logged, and the backup still runs and exits 0', async () => {
    const { io, rec } = recording({
      startCheckIn: async () => {
        throw new Error('sentry unreachable');
      },
    });
    expect(await runJob(['run'], io)).toBe(0);
    expect(rec.stdout.map(json).map((l) => l.event)).toEqual(['sentry-failed', 'progress', 'done']);
  });

  it('SIGTERM mid-run records the kill, logs it, releases the lock and exits 143', async () => {
    const { io, rec } = recording({ runBackup: () => new Promise<never>(() => {}) });
    void runJob(['run'], io);
    await new Promise((r) => setImmediate(r));
    expect(() => rec.sigterm?.()).toThrow(new Exited(143));
    expect(json(rec.files.get('/var/lib/e2m-backup/last.json') ?? '')).toEqual({
      ok: false,
      error: 'killed by SIGTERM',
      finishedAt: NOW.toISOString(),
    });
    expect(json(rec.stdout[0])).toMatchObject({ event: 'failed', error: 'killed by SIGTERM' });
    expect(rec.events.at(-1)).toBe('unlock /var/lib/e2m-backup/lock');
  });

  it('a lock held by another run fails before anything runs: exit 1, named', async () => {
    const { io, rec } = recording({
      acquireLock: () => {
        throw new Error('another backup (pid 4242) holds /var/lib/e2m-backup/lock');
      },
    });
    expect(await runJob(['run'], io)).toBe(1);
    expect(rec.stderr).toEqual(['e2m-backup run: another backup (pid 4242) holds /var/lib/e2m-backup/lock']);
    expect(rec.calls).toEqual([]);
    expect(rec.files.size).toBe(0);
  });

  it('--dry-run names the object and the pipeline, takes no lock, runs nothing', async () => {
    const { io, rec } = recording();
    expect(await runJob(['run', '--dry-run'], io)).toBe(0);
    const [first, second] = rec.stdout[0].split('\n');
    expect(first).toBe(
      'would upload gs://e2m-test-backups/test/2026-12-02/test-20261202T030000.000Z-<release>.sql.zst from:',
    );
    expect(second).toMatch(
      /^ {2}set -o pipefail; mariadb-dump --defaults-extra-file=\/etc\/e2m-backup\/client\.cnf .* app \|/,
    );
    expect(rec.events).toEqual(['config /etc/e2m-backup/backup.env']);
    expect(rec.calls).toEqual([]);
  });

  it('--from-defaults-file and --from-database dump another server; a bad name is refused, named', async () => {
    const { io, rec } = recording();
    expect(
      await runJob(['run', '--from-defaults-file', '/etc/cloudsql.cnf', '--from-database', 'prod'], io),
    ).toBe(0);
    expect(rec.calls[1][1]).toEqual({ ...cfg, defaultsFile: '/etc/cloudsql.cnf', database: 'prod' });
    const dry = recording();
    expect(await runJob(['run', '--dry-run', '--json', '--from-database', 'prod'], dry.io)).toBe(0);
    expect(String(json(dry.rec.stdout[0]).script)).toContain(' prod |');
    const bad = recording();
    expect(await runJob(['run', '--from-database', 'Bad;x'], bad.io)).toBe(1);
    expect(bad.rec.stderr).toEqual([
      'e2m-backup run: --from-database must be letters, digits and _ (got "Bad;x")',
    ]);
    expect(bad.rec.events).toEqual(['config /etc/e2m-backup/backup.env']);
  });
});

describe('e2m-backup list', () => {
  it('prints newest first with sizes, marks the incomplete and says what the mark means', async () => {
    const { io, rec } = recording();
    expect(await runJob(['list'], io)).toBe(0);
    expect(rec.stdout[0].split('\n')).toEqual([
      `  2026-12-01T03:00:00.000Z     2.5 MB  ${OBJECT}`,
      `! 2026-12-01T03:00:00.000Z     0.1 MB  ${OBJECT}.partial`,
      "(! = incomplete: no manifest; times are GCS's)",
    ]);
  });

  it('--json gives each entry with its time as ISO and the manifest’s sha256 only', async () => {
    const { io, rec } = recording();
    expect(await runJob(['list', '--json'], io)).toBe(0);
    expect(JSON.parse(rec.stdout[0])).toEqual([
      {
        object: OBJECT,
        at: '2026-12-01T03:00:00.000Z',
        namedAt: '2026-12-01T03:00:00.000Z',
        release: '20261123-abc1234',
        bytes: 2_500_000,
        encrypted: false,
        complete: true,
        sha256: 'ab12',
      },
      {
        object: `${OBJECT}.partial`,
        at: '2026-12-01T03:00:00.000Z',
        namedAt: '2026-12-01T03:00:00.000Z',
        release: '20261123-abc1234',
        bytes: 100_000,
        encrypted: false,
        complete: false,
      },
    ]);
  });

  it('marks a rejected object with x and says why it is not believed', () => {
    const forged = { ...entry(`${OBJECT}.forged`), rejected: 'is dated in the future' };
    expect(listAnswer(cfg, [forged, entry(OBJECT)]).text.split('\n')).toEqual([
      `x 2026-12-01T03:00:00.000Z     2.5 MB  ${OBJECT}.forged`,
      '    rejected: it is dated in the future',
      `  2026-12-01T03:00:00.000Z     2.5 MB  ${OBJECT}`,
      "(x = rejected: never restored, counted or pruned; times are GCS's)",
    ]);
  });

  it('says where it looked when there are none', () => {
    expect(listAnswer(cfg, [])).toEqual({ value: [], text: 'no backups under gs://e2m-test-backups/test/' });
  });
});

describe('e2m-backup restore', () => {
  it('restores the object into the scratch database by default and says how long it took', async () => {
    const { io, rec } = recording();
    expect(await runJob(['restore'], io)).toBe(0);
    expect(rec.calls).toEqual([
      [
        'restoreBackup',
        cfg,
        OBJECT,
        { toDatabase: undefined, force: false, toDefaultsFile: undefined, identityFile: undefined },
      ],
    ]);
    expect(rec.stdout).toEqual([`restored ${OBJECT} into e2m_scratch_restore in 4.2s`]);
  });

  it('passes --to-database, --force, --to-defaults-file and the --identity path made absolute', async () => {
    const { io, rec } = recording();
    const args = [
      'restore',
      'x.sql.zst',
      '--to-database',
      'app',
      '--force',
      '--to-defaults-file',
      '/etc/o.cnf',
    ];
    expect(await runJob([...args, '--identity', 'key.txt', '--json'], io)).toBe(0);
    const identityFile = `${process.cwd()}/key.txt`;
    expect(rec.calls[0][3]).toEqual({
      toDatabase: 'app',
      force: true,
      toDefaultsFile: '/etc/o.cnf',
      identityFile,
    });
    expect(json(rec.stdout[0])).toEqual({ object: 'x.sql.zst', database: 'app', durationMs: 4200 });
  });

  it('--dry-run names the object and the database, restores nothing', async () => {
    const { io, rec } = recording();
    expect(await runJob(['restore', '--dry-run'], io)).toBe(0);
    expect(rec.stdout).toEqual([`would restore ${OBJECT} into e2m_scratch_restore`]);
    expect(rec.calls).toEqual([]);
  });

  it('--before TIME names the backup as OBJECT does, over production too; a time without its zone is refused', async () => {
    const choices: unknown[] = [];
    const { io, rec } = recording({
      findBackup: async (_c, choice) => {
        choices.push(choice);
        return entry(OBJECT);
      },
    });
    const args = ['restore', '--before', '2026-12-01T12:00:00+01:00', '--to-database', 'app', '--force'];
    expect(await runJob(args, io)).toBe(0);
    expect(choices).toEqual([{ object: undefined, before: new Date('2026-12-01T11:00:00Z') }]);
    expect(await runJob(['restore', '--before', '2026-12-01 12:00'], io)).toBe(1);
    expect(rec.stderr).toEqual([
      'e2m-backup restore: --before must be an ISO time with its zone, e.g. 2026-12-02T03:00:00Z (got "2026-12-01 12:00")',
    ]);
  });

  it('a refusal exits 1 with the command and the reason, before the bucket is read', async () => {
    const { io, rec } = recording({
      findBackup: async () => {
        throw new Error('findBackup must not be called');
      },
    });
    expect(await runJob(['restore', '--to-database', 'app'], io)).toBe(1);
    expect(rec.stderr).toEqual([
      'e2m-backup restore: refusing to restore into app: only e2m_scratch_* databases without --force (it replaces what is there: this is production)',
    ]);
  });

  it('--force over a real database needs an explicit OBJECT: there is no default to forge', async () => {
    const { io, rec } = recording({
      findBackup: async () => {
        throw new Error('findBackup must not be called');
      },
    });
    expect(await runJob(['restore', '--to-database', 'app', '--force'], io)).toBe(1);
    expect(await runJob(['restore', '--to-database', 'app', '--force', '--dry-run'], io)).toBe(1);
    expect(rec.stderr).toEqual(
      Array(2).fill(
        'e2m-backup restore: restore into app replaces what is there: name the OBJECT to restore (see list), or --before TIME; there is no default outside e2m_scratch_* databases',
      ),
    );
    expect(rec.calls).toEqual([]);
  });
});

describe('e2m-backup restore --to-time', () => {
  const on = { ...cfg, binlog: true };

  it('restores to the second into scratch by default; --force for production', async () => {
    const { io, rec } = recording({ loadConfig: () => on });
    expect(await runJob(['restore', '--to-time', '2026-12-02 02:59:30'], io)).toBe(0);
    expect(rec.calls).toEqual([
      ['restoreToTime', '2026-12-02T02:59:30.000Z', expect.objectContaining({ force: false })],
    ]);
    expect(rec.stdout.at(-1)).toBe(
      `restored ${OBJECT} into e2m_scratch_restore and replayed 2 binlog(s) to 2026-12-02T02:59:30.000Z in 5.3s`,
    );
    const prod = recording({ loadConfig: () => on });
    expect(
      await runJob(['restore', '--to-time', '2026-12-02 02:59:30', '--to-database', 'app'], prod.io),
    ).toBe(1);
    expect(prod.rec.stderr[0]).toContain(
      'refusing to restore into app: only e2m_scratch_* databases without --force',
    );
    expect(prod.rec.calls).toEqual([]);
  });

  it('refuses, by name, a bad time, OBJECT beside it, another server, and a config without binlogs', async () => {
    const cases: [string[], JobIo['loadConfig'], string][] = [
      [['restore', '--to-time', 'noon'], () => on, '--to-time must be "YYYY-MM-DD HH:MM:SS" (UTC)'],
      [['restore', OBJECT, '--to-time', '2026-12-02 02:59:30'], () => on, 'drop OBJECT and --before'],
      [
        ['restore', '--to-time', '2026-12-02 02:59:30', '--to-defaults-file', '/etc/x.cnf'],
        () => on,
        'drop --to-defaults-file',
      ],
      [['restore', '--to-time', '2026-12-02 02:59:30'], () => cfg, 'binlog shipping is off in this config'],
      [
        ['restore', '--to-time', 'latest', '--to-database', 'app', '--force'],
        () => on,
        '--to-time latest is for scratch restores: over app, name the time',
      ],
    ];
    for (const [args, loadConfig, message] of cases) {
      const { io, rec } = recording({ loadConfig });
      expect(await runJob(args, io), args.join(' ')).toBe(1);
      expect(rec.stderr[0]).toContain(message);
      expect(rec.calls).toEqual([]);
    }
  });

  it('--dry-run says where it would restore, and restores nothing', async () => {
    const { io, rec } = recording({ loadConfig: () => on });
    expect(await runJob(['restore', '--to-time', '2026-12-02T03:59:30+01:00', '--dry-run'], io)).toBe(0);
    expect(rec.stdout).toEqual(['would restore to 2026-12-02T02:59:30.000Z into e2m_scratch_restore']);
    expect(rec.calls).toEqual([]);
  });
});

describe('e2m-backup binlogs', () => {
  it('ships under its own lock, logs the figures, checks in ok', async () => {
    const { io, rec } = recording({ loadConfig: () => ({ ...cfg, binlog: true }) });
    expect(await runJob(['binlogs'], io)).toBe(0);
    expect(rec.events).toEqual([
      'lock /var/lib/e2m-backup/binlog.lock',
      'unlock /var/lib/e2m-backup/binlog.lock',
    ]);
    expect(rec.calls).toEqual([['checkIn', 'in_progress'], ['shipBinlogs'], ['checkIn', 'ok']]);
    expect(json(rec.stdout[0])).toMatchObject({ event: 'shipped', shipped: ['e2m-bin.000007'], cpuMs: 40 });
  });

  it('a failure exits 1, checks in the error and releases the lock; off in the config is refused', async () => {
    const { io, rec } = recording({
      loadConfig: () => ({ ...cfg, binlog: true }),
      shipBinlogs: async () => {
        throw new Error('upload of e2m-bin.000007 failed');
      },
    });
    expect(await runJob(['binlogs'], io)).toBe(1);
    expect(rec.calls).toEqual([
      ['checkIn', 'in_progress'],
      ['checkIn', 'error: upload of e2m-bin.000007 failed'],
    ]);
    expect(rec.events.at(-1)).toBe('unlock /var/lib/e2m-backup/binlog.lock');
    const off = recording();
    expect(await runJob(['binlogs'], off.io)).toBe(1);
    expect(off.rec.stderr[0]).toContain('binlog shipping is off in this config (BACKUP_BINLOG=off)');
  });
});

describe('e2m-backup verify', () => {
  it('a matching drill exits 0 with a line per table', async () => {
    const { io, rec } = recording();
    expect(await runJob(['verify', '--identity', '/k/age.key'], io)).toBe(0);
    expect(rec.calls).toEqual([['verifyBackup', OBJECT, '/k/age.key']]);
    expect(rec.stdout[0].split('\n')).toEqual([
      `verify ${OBJECT}: ok (restore 3.1s)`,
      'ok   note: rows 5000/5000, checksum 77/77',
    ]);
  });

  it('with binlog shipping on, the point-in-time drill too: its line, and its failure fails the verify', async () => {
    const on = { ...cfg, binlog: true };
    const { io, rec } = recording({ loadConfig: () => on });
    expect(await runJob(['verify'], io)).toBe(0);
    expect(rec.calls.map((c) => c[0])).toEqual(['verifyBackup', 'drillPointInTime']);
    expect(rec.stdout[0].split('\n').at(-1)).toBe(
      'ok   point in time: cut at 2026-12-02T02:59:30.000Z through 1 shipped binlog(s)',
    );
    const bad = recording({
      loadConfig: () => on,
      drillPointInTime: async () => ({
        ok: false,
        toTime: '2026-12-02T02:59:30.000Z',
        binlogs: [],
        error: 'binlog e2m-bin.000007 is missing from the bucket',
      }),
    });
    expect(await runJob(['verify', '--json'], bad.io)).toBe(1);
    expect(json(bad.rec.stdout[0])).toMatchObject({ ok: false, pointInTime: { ok: false } });
  });

  it('a mismatch exits 1; the report is the --json answer', async () => {
    const { io, rec } = recording({ verifyBackup: async () => report(false) });
    expect(await runJob(['verify', '--json'], io)).toBe(1);
    expect(JSON.parse(rec.stdout[0])).toEqual(report(false));
  });

  it('a failed drill shows its error after the verdict', () => {
    const failed: VerifyReport = {
      object: OBJECT,
      ok: false,
      restoreMs: 0,
      tables: [],
      error: 'does not match its manifest',
    };
    expect(verifyText(failed)).toBe(`verify ${OBJECT}: FAILED (restore 0.0s)\ndoes not match its manifest`);
  });

  it('--dry-run says what it would compare', async () => {
    const { io, rec } = recording();
    expect(await runJob(['verify', '--dry-run'], io)).toBe(0);
    expect(rec.stdout).toEqual([`would restore ${OBJECT} into e2m_scratch_verify and compare with app`]);
    expect(rec.calls).toEqual([]);
  });
});
