// The attacker of issue 19: a compromised VM, holding the VM's create-only access to the bucket,
// uploads forged backups beside three genuine ones made by the real job. The operator's tools
// (the compiled job's list and restore, which `npm run backup` runs over SSH, and the real
// `zx scripts/backup.mjs prune`) must refuse the fakes and keep the genuine history. The
// emulator enforces no IAM: the attacker here only creates objects (ifGenerationMatch=0), which
// is all roles/storage.objectCreator allows (terraform/tests/iam_storage.tftest.hcl).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bucket } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { objectName } from '../../scripts/lib/backup/plan.ts';
import { createStorage } from '../../scripts/lib/gcs.ts';
import { type Gcs, type JobEnv, jobEnv, root, startGcs } from './support.ts';

const BUCKET = 'e2m-attack-backups';
const DATABASE = 'attack_app';
const HOUR = 3_600_000;

let gcs: Gcs;
let job: JobEnv;
/** The attacker's client: the same emulator, create-only uploads. */
let bucket: Bucket;
let inventory: string;
const genuine: string[] = []; // oldest first
const forged: Record<string, string> = {};

const sql = (query: string, database = DATABASE) => job.sql(query, database);

/** A dump that would do harm if restored, compressed as the job's are. */
function evilDump(tag: string, extra = ''): Buffer {
  const text = `DROP TABLE IF EXISTS note;\nCREATE TABLE note (id INT PRIMARY KEY, body TEXT);\nINSERT INTO note VALUES (666, 'forged ${tag}');\n${extra}`;
  const z = spawnSync('zstd', ['-q', '-c'], { input: text });
  if (z.status !== 0) throw new Error(`zstd: ${z.stderr}`);
  return z.stdout;
}

/** Uploads a forged dump named for `at` and a manifest for it, create-only as the VM uploads. */
async function forge(
  tag: string,
  at: Date,
  manifestOver: Record<string, unknown> = {},
  extraSql = '',
): Promise<string> {
  const name = objectName('twin', at, `20261201-${tag}`);
  const body = evilDump(tag, extraSql);
  const create = { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } };
  await bucket.file(name).save(body, create);
  const [meta] = await bucket.file(name).getMetadata();
  const manifest = {
    object: name,
    env: 'twin',
    release: `20261201-${tag}`,
    database: DATABASE,
    startedAt: at.toISOString(),
    finishedAt: at.toISOString(),
    bytes: Number(meta.size),
    sha256: createHash('sha256').update(body).digest('hex'),
    md5: meta.md5Hash, // GCS's own: the attacker can read it back and copy it
    compression: 'zstd -3',
    encryption: 'none',
    dumpTool: 'mariadb-dump from 11.8',
    format: 1,
    ...manifestOver,
  };
  await bucket.file(`${name}.json`).save(JSON.stringify(manifest), create);
  return name;
}

/** `zx scripts/backup.mjs` exactly as the operator types it, against the emulator's bucket. */
function backupCli(...args: string[]) {
  const r = spawnSync(join(root, 'node_modules/.bin/zx'), ['scripts/backup.mjs', ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, E2M_INVENTORY: inventory, FORCE_COLOR: '0' },
    timeout: 120_000,
  });
  const last = r.stdout.trim().split('\n').at(-1) ?? '';
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(last);
  } catch {
    json = undefined;
  }
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr, json };
}

beforeAll(async () => {
  gcs = await startGcs();
  job = await jobEnv(inject('mysqlAdminUrl'), gcs.endpoint, {
    BACKUP_ENV: 'twin',
    BACKUP_BUCKET: BUCKET,
    BACKUP_DATABASE: DATABASE,
  });
  bucket = createStorage({ projectId: 'e2m-test', gcsEndpoint: gcs.endpoint }).bucket(BUCKET);
  await bucket.create();
  inventory = join(job.dir, 'twin.yml');
  writeFileSync(
    inventory,
    [
      'all:',
      '  children:',
      '    e2micro:',
      '      hosts:',
      '        twin: { ansible_host: 127.0.0.1, ansible_port: 22, ansible_user: ops, ansible_ssh_private_key_file: none }',
      '      vars:',
      '        e2m_env: twin',
      '        e2m_domain: localhost',
      '        e2m_tls_mode: internal',
      '        e2m_project_id: e2m-test',
      '        e2m_state_bucket: unused',
      `        e2m_backup_bucket: ${BUCKET}`,
      `        e2m_gcs_endpoint: ${gcs.endpoint}`,
      '        e2m_http_url: http://127.0.0.1:8080',
      '',
    ].join('\n'),
  );
  spawnSync('mariadb', [
    `--defaults-extra-file=${job.defaultsFile}`,
    '-e',
    `DROP DATABASE IF EXISTS ${DATABASE}; CREATE DATABASE ${DATABASE}`,
  ]);
  sql('CREATE TABLE note (id INT PRIMARY KEY, body TEXT) ENGINE=InnoDB');
  // Three genuine nights, each with one more note, made by the real job.
  for (let i = 1; i <= 3; i++) {
    sql(`INSERT INTO note VALUES (${i}, 'genuine ${i}')`);
    const r = job.run('run');
    if (r.code !== 0) throw new Error(`genuine backup ${i}: ${r.stderr}`);
    genuine.push(String(r.lines.find((l) => l.event === 'done')?.object));
  }
  // The restore user, as ansible/roles/backup creates it: all rights on the production database,
  // none elsewhere. A restore over production runs the dump's SQL as this user, never as root.
  const restoreCnf = join(job.dir, 'restore.cnf');
  writeFileSync(
    restoreCnf,
    `[client]\nuser=e2m_restore_t\npassword="restore-pw"\nhost=${new URL(inject('mysqlAdminUrl')).hostname}\nport=${new URL(inject('mysqlAdminUrl')).port}\nprotocol=tcp\n`,
    { mode: 0o600 },
  );
  sql(
    `DROP USER IF EXISTS 'e2m_restore_t'@'%'; CREATE USER 'e2m_restore_t'@'%' IDENTIFIED BY 'restore-pw'; GRANT ALL ON ${DATABASE}.* TO 'e2m_restore_t'@'%'; DROP DATABASE IF EXISTS attack_other; CREATE DATABASE attack_other; CREATE TABLE attack_other.kept (id INT)`,
    'mysql',
  );
  writeFileSync(
    job.configFile,
    `${readFileSync(job.configFile, 'utf8')}BACKUP_RESTORE_DEFAULTS_FILE=${restoreCnf}\n`,
  );
  const now = Date.now();
  const yesterday = new Date(now - 24 * HOUR);
  yesterday.setUTCHours(23, 59, 59, 0);
  forged.lateToday = await forge('late', new Date(now + 3 * HOUR)); // newest of its day, by name
  forged.lateYesterday = await forge('backdated', yesterday); // into a day of existing history
  forged.future = await forge('future', new Date('2099-12-31T23:59:59Z'));
  // Named honestly, but its manifest is not the dump's (and large: a streamed read).
  forged.mismatched = await forge('mismatch', new Date(now), { bytes: 12345, pad: ' '.repeat(300_000) });
}, 180_000);

afterAll(() => gcs?.stop());

const reasons = (entries: { object: string; rejected?: string }[]) =>
  Object.fromEntries(entries.filter((e) => e.rejected).map((e) => [e.object, e.rejected]));

describe('attacker: forged backups beside genuine ones (emulator, real job, real MariaDB)', () => {
  it('the emulator sets timeCreated itself and ignores a client-supplied one, as GCS does', async () => {
    const file = bucket.file('twin/probe');
    await file.save('x', { resumable: false, metadata: { timeCreated: '2020-01-01T00:00:00Z' } });
    await file.setMetadata({ timeCreated: '2020-01-01T00:00:00Z' }).catch(() => undefined);
    const [meta] = await file.getMetadata();
    expect(Date.now() - new Date(String(meta.timeCreated)).getTime()).toBeLessThan(60_000);
    await file.delete();
  });

  it('list: the genuine three are trusted; every forgery is rejected, with why', () => {
    const r = job.run('list', '--json');
    expect(r.code, r.stderr).toBe(0);
    const entries = r.lines[0] as unknown as { object: string; complete: boolean; rejected?: string }[];
    const trusted = entries.filter((e) => e.complete && !e.rejected).map((e) => e.object);
    expect(trusted).toEqual([...genuine].reverse());
    const why = reasons(entries);
    expect(Object.keys(why).sort()).toEqual(Object.values(forged).sort());
    expect(why[forged.future]).toMatch(/^is dated in the future: named 2099-12-31T23:59:59\.000Z/);
    expect(why[forged.lateToday]).toMatch(/^is (dated in the future|named .*, later than GCS created it)/);
    expect(why[forged.lateYesterday]).toMatch(
      /^is named .* but GCS created it at .*, longer after than any run takes/,
    );
    expect(why[forged.mismatched]).toMatch(
      /^does not match its manifest: GCS holds \d+ B, the manifest says 12345 B$/,
    );
    const text = job.run('list').stdout;
    expect(text).toContain(`x `);
    expect(text).toContain('x = rejected: never restored, counted or pruned');
  });

  it('restore: the default picks the newest genuine backup, never a forgery; a forgery named is refused', () => {
    const r = job.run('restore', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.lines.at(-1)).toMatchObject({ object: genuine[2], database: 'e2m_scratch_restore' });
    expect(sql('SELECT GROUP_CONCAT(body ORDER BY id) FROM note', 'e2m_scratch_restore')).toBe(
      'genuine 1,genuine 2,genuine 3',
    );
    for (const name of Object.values(forged)) {
      const f = job.run('restore', name);
      expect(f.code).toBe(1);
      expect(f.stderr).toContain(`${name} is not trusted: it `);
    }
  });

  it('restore --force over production needs a named object; a forgery is refused before any write', () => {
    const before = sql('SELECT GROUP_CONCAT(body ORDER BY id) FROM note');
    const noDefault = job.run('restore', '--to-database', DATABASE, '--force');
    expect(noDefault.code).toBe(1);
    expect(noDefault.stderr).toContain(`restore into ${DATABASE} replaces what is there: name the OBJECT`);
    const named = job.run('restore', forged.future, '--to-database', DATABASE, '--force');
    expect(named.code).toBe(1);
    expect(named.stderr).toContain('is not trusted: it is dated in the future');
    expect(sql('SELECT GROUP_CONCAT(body ORDER BY id) FROM note')).toBe(before);
  });

  it('restore --before TIME takes the newest genuine backup GCS created by then (the last before a compromise)', () => {
    const entries = job.run('list', '--json').lines[0] as unknown as { object: string; at: string }[];
    const third = entries.find((e) => e.object === genuine[2])?.at ?? '';
    const before = new Date(new Date(third).getTime() - 1).toISOString();
    const r = job.run('restore', '--before', before, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.lines.at(-1)).toMatchObject({ object: genuine[1] });
    expect(sql('SELECT GROUP_CONCAT(body ORDER BY id) FROM note', 'e2m_scratch_restore')).toBe(
      'genuine 1,genuine 2',
    );
    const forced = job.run(
      'restore',
      '--before',
      before,
      '--to-database',
      DATABASE,
      '--force',
      '--dry-run',
      '--json',
    );
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.lines.at(-1)).toMatchObject({ object: genuine[1], toDatabase: DATABASE });
  });

  it('verify: the drill runs on the newest genuine backup and passes', () => {
    const r = job.run('verify', '--json');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.lines.at(-1)).toMatchObject({ ok: true, object: genuine[2] });
  });

  it('prune --dry-run and prune keep the genuine history and leave the forgeries for the operator', async () => {
    const before = (await bucket.getFiles({ prefix: 'twin/' }))[0].map((f) => f.name).sort();
    for (const dry of [['--dry-run'], []]) {
      const r = backupCli('prune', '--daily', '1', '--weekly', '0', '--json', ...dry);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toContain('MaxListenersExceededWarning');
      expect(r.json).toMatchObject({ ok: true, deleted: [], kept: [...genuine].reverse() });
      expect(((r.json?.rejected ?? []) as { object: string }[]).map((x) => x.object).sort()).toEqual(
        Object.values(forged).sort(),
      );
    }
    expect((await bucket.getFiles({ prefix: 'twin/' }))[0].map((f) => f.name).sort()).toEqual(before);
  });

  it('prune counts only trusted backups, by GCS time: ten days on, keeping 2 deletes the oldest genuine one', async () => {
    const later = new Date(Date.now() + 10 * 24 * HOUR).toISOString();
    const args = ['prune', '--daily', '0', '--weekly', '0', '--keep-newest', '2', '--now', later, '--json'];
    const r = backupCli(...args);
    expect(r.code, r.stderr).toBe(0);
    // Had the forgeries counted (they are newer by name and by GCS time), both genuine slots
    // would have gone to them and all three genuine backups would be deleted.
    expect(r.json).toMatchObject({ deleted: [genuine[0]], kept: [genuine[2], genuine[1]] });
    const [left] = await bucket.getFiles({ prefix: 'twin/' });
    const names = new Set(left.map((f) => f.name));
    expect([genuine[0], `${genuine[0]}.json`].filter((n) => names.has(n))).toEqual([]);
    for (const n of [...genuine.slice(1), ...Object.values(forged)]) expect(names.has(n)).toBe(true);
  });

  it('restore --force runs as the restore user: a genuine backup replaces production, nothing else is reachable', () => {
    sql(`INSERT INTO note VALUES (4, 'after the backups')`);
    const r = job.run('restore', genuine[1], '--to-database', DATABASE, '--force', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(sql('SELECT GROUP_CONCAT(body ORDER BY id) FROM note')).toBe('genuine 1,genuine 2');
    // Into another real database: the restore user has no rights there.
    const other = job.run('restore', genuine[1], '--to-database', 'attack_other', '--force');
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/Access denied for user 'e2m_restore_t'@'%' to database 'attack_other'/);
    expect(sql('SHOW TABLES', 'attack_other')).toBe('kept');
  });

  it('a plausible forgery (honest name, true manifest) named by mistake cannot reach beyond production', async () => {
    // The limit of what the bucket can prove: this one is trusted. Its SQL then runs as the
    // restore user, so it cannot make users, grant, or drop another database.
    const plausible = await forge(
      'plausible',
      new Date(),
      {},
      "DROP DATABASE attack_other;\nCREATE USER 'evil'@'%' IDENTIFIED BY 'x';\n",
    );
    const list = job.run('list', '--json').lines[0] as unknown as { object: string; rejected?: string }[];
    expect(list.find((e) => e.object === plausible)?.rejected).toBeUndefined();
    const r = job.run('restore', plausible, '--to-database', DATABASE, '--force');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /failed \(mariadb=1: DROP DATABASE attack_other; .*Access denied for user 'e2m_restore_t'/,
    );
    expect(sql('SHOW TABLES', 'attack_other')).toBe('kept');
    expect(sql("SELECT COUNT(*) FROM mysql.user WHERE user = 'evil'", 'mysql')).toBe('0');
    // Production itself it could write (that is the restore user's job): the operator's CLI takes
    // a safety dump first for this (cli.ts restoreOverProduction).
    expect(sql('SELECT GROUP_CONCAT(body) FROM note')).toBe('forged plausible');
  });
});
