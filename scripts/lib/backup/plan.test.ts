import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  type BackupEntry,
  compareTables,
  dumpScript,
  figuresSql,
  minAgeDays,
  objectName,
  parseConfig,
  parseFigures,
  parseObjectName,
  pipelineFailure,
  releaseOf,
  restoreScript,
  restoreTarget,
  selectExpired,
  stamp,
} from './plan.ts';

const CONFIG = `# comment
BACKUP_ENV=staging
BACKUP_BUCKET=my-backups
BACKUP_DATABASE=app
BACKUP_DEFAULTS_FILE=/etc/e2m-backup/my.cnf
BACKUP_GCS_ENDPOINT=
`;

describe('parseConfig', () => {
  it('reads the env file with defaults', () => {
    expect(parseConfig(CONFIG, 'f')).toEqual({
      env: 'staging',
      bucket: 'my-backups',
      projectId: '',
      gcsEndpoint: '',
      gcsAuth: false,
      database: 'app',
      defaultsFile: '/etc/e2m-backup/my.cnf',
      restoreDefaultsFile: '',
      releaseFile: '/run/e2m-backup/state.json',
      zstdLevel: 3,
      sentryDsn: '',
      binlog: false,
      binlogOnCalendar: '*:*:00',
      schedule: { onCalendar: '*-*-* 03:15:00', randomizedDelay: '15min', timeout: '1h' },
      progressBytes: 16 * 1024 * 1024,
      stateDir: '/var/lib/e2m-backup',
      ageRecipients: [],
    });
  });

  it('names the file and the key of each problem', () => {
    expect(() => parseConfig(CONFIG.replace('BACKUP_BUCKET=my-backups\n', ''), '/etc/x.env')).toThrow(
      '/etc/x.env: BACKUP_BUCKET is required and missing or empty',
    );
    expect(() => parseConfig(`${CONFIG}BACKUP_BUKET=x\n`, 'f')).toThrow('f:7: unknown key BACKUP_BUKET');
    expect(() => parseConfig(`${CONFIG}BACKUP_ZSTD_LEVEL=30\n`, 'f')).toThrow(
      'f: BACKUP_ZSTD_LEVEL must be an integer 1..19 (got "30")',
    );
    expect(() => parseConfig(CONFIG.replace('=app', '=app; drop'), 'f')).toThrow(
      'BACKUP_DATABASE must be a plain database name',
    );
    expect(() => parseConfig(`${CONFIG}oops\n`, 'f')).toThrow('f:7: not KEY=value: oops');
    expect(() => parseConfig(`${CONFIG}BACKUP_GCS_AUTH=yes\n`, 'f')).toThrow(
      'f: BACKUP_GCS_AUTH must be on or off (got "yes")',
    );
  });

  it('takes credentials with an endpoint only when BACKUP_GCS_AUTH=on (the twin, as on GCP)', () => {
    expect(parseConfig(`${CONFIG}BACKUP_GCS_AUTH=on\n`, 'f').gcsAuth).toBe(true);
  });
});

describe('object names', () => {
  const at = new Date('2026-11-23T03:15:07.123Z');
  it('carry env, day, time and release, and parse back', () => {
    const name = objectName('prod', at, 'r42');
    expect(name).toBe('prod/2026-11-23/prod-20261123T031507.123Z-r42.sql.zst');
    expect(parseObjectName(name)).toEqual({ env: 'prod', at, release: 'r42', encrypted: false });
    expect(objectName('prod', at, 'r42', true)).toBe(`${name}.age`);
    expect(parseObjectName(`${name}.age`)).toEqual({ env: 'prod', at, release: 'r42', encrypted: true });
    expect(stamp(at)).toBe('20261123T031507.123Z');
    expect(parseObjectName('prod/2026-11-23/prod-20261123T031507Z-r42.sql.zst')?.at).toEqual(
      new Date('2026-11-23T03:15:07Z'),
    );
    expect(parseObjectName(`${name}.json`)).toBeUndefined();
    expect(parseObjectName('prod/2026-11-23/staging-20261123T031507Z-r42.sql.zst')).toBeUndefined();
  });

  it('take the serving release from state.json, else "none"', () => {
    expect(releaseOf('{"colour":"blue","release":"20261123-ab12cd3","image":"e2m/backend:x"}')).toBe(
      '20261123-ab12cd3',
    );
    expect(releaseOf(undefined)).toBe('none');
    expect(releaseOf('{not json')).toBe('none');
    expect(releaseOf('{"release":"../../etc"}')).toBe('none');
  });
});

function entry(iso: string, complete = true, rejected?: string): BackupEntry {
  const at = new Date(iso);
  const object = objectName('prod', at, 'r');
  return {
    object,
    at,
    namedAt: at,
    release: 'r',
    bytes: 10,
    encrypted: false,
    complete,
    ...(rejected ? { rejected } : {}),
  };
}
const policy = (daily: number, weekly: number, newest = 1, minAge = 0) => ({
  daily,
  weekly,
  newest,
  minAgeDays: minAge,
});

describe('retention', () => {
  const now = new Date('2026-11-23T12:00:00Z'); // a Monday
  it('keeps the newest of each of the last N days and M ISO weeks, deletes the rest', () => {
    const entries = [
      entry('2026-11-23T03:15:00Z'), // today: kept (daily, week of 11-23)
      entry('2026-11-22T03:15:00Z'), // kept (daily, newest of week 11-16)
      entry('2026-11-22T01:00:00Z'), // second of the same day: deleted
      entry('2026-11-21T03:15:00Z'), // kept (daily, 3 days)
      entry('2026-11-20T03:15:00Z'), // outside 3 days; same week as 11-22: deleted
      entry('2026-11-15T03:15:00Z'), // Sunday: newest of week 11-09: kept (weekly)
      entry('2026-11-10T03:15:00Z'), // same week: deleted
      entry('2026-11-08T03:15:00Z'), // week 11-02 is the 4th week back: kept
      entry('2026-10-25T03:15:00Z'), // beyond 4 weeks: deleted
    ];
    const expired = selectExpired(entries, now, policy(3, 4)).map((e) => e.at.toISOString().slice(0, 13));
    expect(expired).toEqual(['2026-11-22T01', '2026-11-20T03', '2026-11-10T03', '2026-10-25T03']);
  });

  it('always keeps the newest complete backup, and young incomplete ones', () => {
    const old = entry('2026-09-01T03:15:00Z');
    const dying = entry('2026-11-23T11:00:00Z', false); // maybe still uploading
    const dead = entry('2026-11-21T03:15:00Z', false);
    expect(selectExpired([old, dying, dead], now, policy(1, 1))).toEqual([dead]);
  });

  it('keeps the newest K trusted backups whatever their age; rejected ones neither count nor go', () => {
    const forged = [
      entry('2026-11-23T11:00:00Z', true, 'is dated in the future'),
      entry('2026-11-22T11:00:00Z', true, 'does not match its manifest'),
    ];
    const genuine = ['2026-10-01', '2026-09-30', '2026-09-29', '2026-09-28'].map((d) =>
      entry(`${d}T03:15:00Z`),
    );
    const expired = selectExpired([...forged, ...genuine], now, policy(7, 4, 3));
    expect(expired).toEqual([genuine[3]]);
  });

  it('deletes nothing younger than minAgeDays, counted from GCS time', () => {
    const days = ['2026-11-23', '2026-11-22', '2026-11-17', '2026-11-15', '2026-11-10'];
    const entries = days.map((d) => entry(`${d}T01:00:00Z`));
    expect(
      selectExpired(entries, now, policy(1, 0, 1, 7)).map((e) => e.at.toISOString().slice(0, 10)),
    ).toEqual(['2026-11-15', '2026-11-10']);
    expect(selectExpired(entries, now, policy(1, 0, 1, 30))).toEqual([]);
  });

  it("minAgeDays: the bucket's retention policy (seconds) or the floor, whichever is longer", () => {
    expect(minAgeDays(undefined, 7)).toBe(7);
    expect(minAgeDays('864000', 7)).toBe(10);
    expect(minAgeDays(86_401, 0)).toBe(2); // a part of a day is a day
    expect(minAgeDays('864000', 30)).toBe(30);
    expect(minAgeDays('not a number', 3)).toBe(3);
  });
});

describe('pipelines', () => {
  it('dump: one snapshot, streamed, options file first, per-stage status', () => {
    expect(dumpScript({ defaultsFile: '/etc/e2m-backup/my.cnf', database: 'app', zstdLevel: 3 })).toBe(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's ${...}, not JavaScript's
      'set -o pipefail; mariadb-dump --defaults-extra-file=/etc/e2m-backup/my.cnf --single-transaction --quick --routines --triggers --events --hex-blob --no-tablespaces --default-character-set=utf8mb4 app | zstd -q -c -3 -T1; s=("${PIPESTATUS[@]}"); echo "e2m-pipeline dump=${s[0]} zstd=${s[1]}" >&2; [ "${s[0]}" = 0 ] && [ "${s[1]}" = 0 ]',
    );
  });

  it('encrypts after zstd when age recipients are configured; restore decrypts first', () => {
    const key = `age1${'q'.repeat(58)}`;
    const script = dumpScript({ defaultsFile: '', database: 'app', zstdLevel: 3, ageRecipients: [key] });
    expect(script).toContain(`| zstd -q -c -3 -T1 | age -r ${key};`);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's ${...}, not JavaScript's
    expect(script).toContain('echo "e2m-pipeline dump=${s[0]} zstd=${s[1]} age=${s[2]}"');
    expect(restoreScript(undefined, 'x', '/run/key')).toContain(
      'set -o pipefail; age -d -i /run/key | zstd -q -d -c | mariadb',
    );
    expect(() => parseConfig(`${CONFIG}BACKUP_AGE_RECIPIENTS=age1nope\n`, 'f')).toThrow(
      'f: BACKUP_AGE_RECIPIENTS: "age1nope…" is not an age public key (age1…)',
    );
    expect(parseConfig(`${CONFIG}BACKUP_AGE_RECIPIENTS=${key} ${key}\n`, 'f').ageRecipients).toEqual([
      key,
      key,
    ]);
  });

  it('reports which stage failed, checked in a real bash', () => {
    // The same status epilogue as the real scripts, around stages that fail on purpose.
    const script = dumpScript({ defaultsFile: '', database: 'app', zstdLevel: 1 })
      .replace(/mariadb-dump [^|]*\|/, "sh -c 'echo access denied >&2; exit 2' |")
      .replace('zstd -q -c -1 -T1', 'cat');
    const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(pipelineFailure(r.stderr)).toBe('dump=2: access denied');
    expect(pipelineFailure('')).toBe('the pipeline was killed');
  });

  it('restore: checksum-checked zstd into the named database', () => {
    expect(restoreScript(undefined, 'e2m_scratch_restore')).toContain(
      'zstd -q -d -c | mariadb --database e2m_scratch_restore;',
    );
  });

  it('restore goes to scratch unless forced; production is named as such', () => {
    const cfg = { database: 'app' };
    expect(restoreTarget(cfg, {})).toEqual({ database: 'e2m_scratch_restore', scratch: true });
    expect(restoreTarget(cfg, { toDatabase: 'e2m_scratch_x' })).toEqual({
      database: 'e2m_scratch_x',
      scratch: true,
    });
    expect(() => restoreTarget(cfg, { toDatabase: 'app' })).toThrow(
      /refusing to restore into app.*this is production/,
    );
    expect(restoreTarget(cfg, { toDatabase: 'app', force: true })).toEqual({
      database: 'app',
      scratch: false,
    });
    expect(() =>
      restoreTarget(cfg, { toDatabase: 'e2m_scratch_x', toDefaultsFile: '/etc/cloudsql.cnf' }),
    ).toThrow('on the server of /etc/cloudsql.cnf');
    expect(() => restoreTarget(cfg, { toDatabase: 'a`b', force: true })).toThrow(
      '--to-database must be letters',
    );
  });
});

describe('drill figures', () => {
  it('builds one count per table and one CHECKSUM TABLE, and parses them back', () => {
    expect(figuresSql('app', ['note', 'mikro_orm_migrations'])).toBe(
      "SELECT 'note', COUNT(*) FROM `app`.`note` UNION ALL SELECT 'mikro_orm_migrations', COUNT(*) FROM `app`.`mikro_orm_migrations`;\nCHECKSUM TABLE `app`.`note`, `app`.`mikro_orm_migrations`;",
    );
    const f = parseFigures(
      'note\t3\nmikro_orm_migrations\t1\napp.note\t1234\napp.mikro_orm_migrations\t99\n',
      'app',
      ['note', 'mikro_orm_migrations'],
    );
    expect(f).toEqual(
      new Map([
        ['note', { rows: 3, checksum: '1234' }],
        ['mikro_orm_migrations', { rows: 1, checksum: '99' }],
      ]),
    );
  });

  it('a table differs when rows or checksum differ, or it is missing on one side', () => {
    const p = new Map([
      ['a', { rows: 1, checksum: '1' }],
      ['b', { rows: 2, checksum: '2' }],
      ['c', { rows: 0, checksum: '0' }],
    ]);
    const r = new Map([
      ['a', { rows: 1, checksum: '1' }],
      ['b', { rows: 2, checksum: '3' }],
    ]);
    expect(compareTables(p, r).map((t) => [t.table, t.ok])).toEqual([
      ['a', true],
      ['b', false],
      ['c', false],
    ]);
  });
});
