// The nightly backup on the converged, deployed twin, driven as a user types it
// (zx scripts/backup.mjs): notes written through the API, the job run by its real systemd unit
// (user, limits, grants), restored and verified; killed mid-upload; a corrupted object; retention.
import { request } from 'node:https';
import type { Bucket } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStorage } from '../../scripts/lib/gcs.ts';
import type { SshRunner } from '../../scripts/lib/runner.ts';
import { zxCli } from './support/cli.ts';
import { connect, sudo, twinTarget } from './support/twin.ts';

const backupCli = (...args: string[]) => zxCli('backup.mjs', ...args);

const target = twinTarget();
let ssh: SshRunner;
let bucket: Bucket;

/** POST through Caddy, as a client would (Caddy's internal CA is not trusted here). */
function post(path: string, body: unknown): Promise<number> {
  const { hostname, port } = new URL(target.httpsUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: hostname,
        port: Number(port),
        path,
        method: 'POST',
        rejectUnauthorized: false,
        servername: target.domain,
        headers: { host: target.domain, 'content-type': 'application/json' },
        timeout: 10_000,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/** A root session's statements kept out of the binary log (so out of the shipped binlogs). */
const NO_BINLOG = 'SET SESSION sql_log_bin = 0;';
const sql = async (query: string, database = 'app') =>
  (await sudo(ssh, ['mariadb', '-N', '-B', database, '-e', query])).stdout.trim();

/** The job's JSON events in the journal, oldest first. */
async function journalEvents(lines: number): Promise<Record<string, string>[]> {
  const j = await sudo(ssh, [
    'journalctl',
    '-u',
    'e2m-backup.service',
    '-o',
    'cat',
    '--no-pager',
    '-n',
    String(lines),
  ]);
  return j.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}

/** The dumps and manifests (the binlog shipper adds its own objects every minute, apart). */
async function objects(): Promise<string[]> {
  const [files] = await bucket.getFiles({ prefix: `${target.env}/` });
  return files
    .map((f) => f.name)
    .filter((n) => !n.startsWith(`${target.env}/binlog/`))
    .sort();
}

beforeAll(async () => {
  ssh = await connect(target);
  bucket = createStorage({ projectId: target.projectId, gcsEndpoint: target.gcsEndpoint }).bucket(
    target.bucket,
  );
  for (const f of await objects()) await bucket.file(f).delete();
  for (let i = 0; i < 40; i++)
    expect(await post('/notes', { title: `backup ${i}`, body: `body ${i} ✓` })).toBe(201);
}, 120_000);

afterAll(async () => {
  await sql(`${NO_BINLOG} DROP TABLE IF EXISTS filler`).catch(() => undefined);
  await ssh?.close();
});

describe('backup: the nightly job on the twin', () => {
  let first = '';

  it('is installed as designed: unprivileged user, limits, persistent nightly timer', async () => {
    const unit = await ssh.capture([
      'systemctl',
      'show',
      'e2m-backup.service',
      '-p',
      'User',
      '-p',
      'MemoryMax',
      '-p',
      'TimeoutStartUSec',
      '-p',
      'ProtectSystem',
    ]);
    expect(unit.split('\n').sort()).toEqual([
      `MemoryMax=${160 * 1024 * 1024}`,
      'ProtectSystem=strict',
      'TimeoutStartUSec=1h',
      'User=e2m-backup',
    ]);
    expect(await ssh.capture(['systemctl', 'is-enabled', 'e2m-backup.timer'])).toBe('enabled');
    const timer = await ssh.capture([
      'systemctl',
      'show',
      'e2m-backup.timer',
      '-p',
      'Persistent',
      '-p',
      'RandomizedDelayUSec',
    ]);
    expect(timer.split('\n').sort()).toEqual(['Persistent=yes', 'RandomizedDelayUSec=15min']);
    // The job's database user can read production but not change it.
    const denied = await sudo(
      ssh,
      ['mariadb', '--defaults-extra-file=/etc/e2m-backup/my.cnf', 'app', '-e', 'DELETE FROM notes'],
      { check: false },
    );
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('command denied to user');
    // The binlog shipper: every minute, the same user and sandbox, its own memory cap.
    expect(await ssh.capture(['systemctl', 'is-enabled', 'e2m-binlog.timer'])).toBe('enabled');
    const shipper = await ssh.capture([
      'systemctl',
      'show',
      'e2m-binlog.service',
      '-p',
      'User',
      '-p',
      'MemoryMax',
    ]);
    expect(shipper.split('\n').sort()).toEqual([`MemoryMax=${96 * 1024 * 1024}`, 'User=e2m-backup']);
    expect(await sql('SELECT @@log_bin, @@binlog_format', 'mysql')).toBe('1\tROW');
  });

  it('run: the unit dumps and uploads; the object names the serving release', async () => {
    const state = JSON.parse(await sudo(ssh, ['cat', '/srv/app/state.json']).then((r) => r.stdout));
    const r = await backupCli('run', '--json');
    expect(r.code, r.out).toBe(0);
    first = String(r.json?.object);
    expect(first).toMatch(
      new RegExp(`^twin/\\d{4}-\\d{2}-\\d{2}/twin-\\d{8}T\\d{6}\\.\\d{3}Z-${state.release}\\.sql\\.zst$`),
    );
    expect(await objects()).toEqual([first, `${first}.json`]);
    const done = (await journalEvents(30)).findLast((l) => l.event === 'done');
    expect(done).toMatchObject({ job: 'e2m-backup', object: first });
  });

  it("took its credentials from the VM's metadata server, as on GCP (the service account's token)", async () => {
    const asked = await sudo(ssh, [
      'journalctl',
      '-u',
      'twin-metadata',
      '-o',
      'cat',
      '--no-pager',
      '--since',
      '-10min',
    ]);
    expect(asked.stdout).toMatch(
      /"GET \/computeMetadata\/v1\/instance\/service-accounts\/[^/]+\/token[^"]* HTTP\/1\.1" 200/,
    );
    const env = await sudo(ssh, ['grep', '-x', 'BACKUP_GCS_AUTH=on', '/etc/e2m-backup/backup.env']);
    expect(env.stdout.trim()).toBe('BACKUP_GCS_AUTH=on');
  });

  it('restore: into a scratch database, every note back', async () => {
    const r = await backupCli('restore', first, '--json');
    expect(r.code, r.out).toBe(0);
    const q = 'SELECT COUNT(*), SUM(CRC32(CONCAT(title, body))) FROM notes';
    expect(await sql(q, 'e2m_scratch_restore')).toBe(await sql(q));
    expect(Number((await sql('SELECT COUNT(*) FROM notes')).split('\t')[0])).toBeGreaterThanOrEqual(40);
  });

  it('verify: the drill passes and says so per table', async () => {
    const r = await backupCli('verify', '--json');
    expect(r.code, r.out).toBe(0);
    expect(r.json).toMatchObject({ ok: true, object: first });
    const tables = ((r.json?.tables ?? []) as { table: string; ok: boolean }[]).map((t) => [t.table, t.ok]);
    expect(tables).toContainEqual(['notes', true]);
  });

  it('restore --force over production: refused while the app serves, before any dump or write', async () => {
    const before = await objects();
    const q = 'SELECT COUNT(*), SUM(CRC32(CONCAT(title, body))) FROM notes';
    const rows = await sql(q);
    const r = await backupCli('restore', first, '--to-database', 'app', '--force');
    expect(r.code).toBe(1);
    expect(r.out).toContain('the app is taking writes (kill switch off)');
    expect(await objects()).toEqual(before); // no safety dump either
    expect(await sql(q)).toBe(rows);
  });

  it('restore --force over production with the kill switch on: a safety dump first, then the restore user replaces app', async () => {
    const q = 'SELECT COUNT(*), SUM(CRC32(CONCAT(title, body))) FROM notes';
    const on = await zxCli('incident.mjs', 'kill-switch', 'on', '--reason', 'e2e backup restore', '--json');
    expect(on.code, on.out).toBe(0);
    try {
      const before = await objects();
      const r = await backupCli('restore', first, '--to-database', 'app', '--force', '--json');
      expect(r.code, r.out).toBe(0);
      const safety = String(r.json?.safetyDump);
      expect((await objects()).filter((o) => !before.includes(o))).toEqual([safety, `${safety}.json`]);
      expect(await sql(q)).toBe(await sql(q, 'e2m_scratch_restore')); // first, as restored earlier
      // The SQL ran as the restore user: all rights on app, nothing on any other database.
      const grants = (await sql("SHOW GRANTS FOR 'e2m_restore'@'localhost'", 'mysql')).split('\n');
      // BINLOG REPLAY and the scratch databases are for restore --to-time (binlog.ts).
      expect(grants.filter((g) => !g.startsWith('GRANT USAGE ON *.*')).sort()).toEqual([
        'GRANT ALL PRIVILEGES ON `app`.* TO `e2m_restore`@`localhost`',
        expect.stringMatching(
          /^GRANT ALL PRIVILEGES ON `e2m\\*_scratch\\*_%`\.\* TO `e2m_restore`@`localhost`$/,
        ),
        expect.stringMatching(/^GRANT BINLOG REPLAY ON \*\.\* TO `e2m_restore`@`localhost`/),
      ]);
      const cnf = await sudo(ssh, ['stat', '-c', '%U:%G %a', '/etc/e2m-backup/restore.cnf']);
      expect(cnf.stdout.trim()).toBe('root:root 600');
    } finally {
      await zxCli('incident.mjs', 'kill-switch', 'off', '--json');
    }
  });

  it('the growth path: import into another server over TCP and dump it back (a Cloud SQL stand-in)', async () => {
    // The README's migration commands, against a second database and user on the twin reached
    // over TCP with a password, as Cloud SQL is from the VM.
    await sudo(ssh, [
      'mariadb',
      '-e',
      "CREATE DATABASE IF NOT EXISTS growth; CREATE USER IF NOT EXISTS 'growth'@'127.0.0.1' IDENTIFIED BY 'growth-pw'; GRANT ALL ON growth.* TO 'growth'@'127.0.0.1'",
    ]);
    const cnf = '/etc/e2m-backup/cloudsql.cnf';
    await sudo(ssh, ['install', '-m', '0640', '-g', 'e2m-backup', '/dev/stdin', cnf], {
      input: '[client]\nhost=127.0.0.1\nport=3306\nuser=growth\npassword="growth-pw"\n',
    });
    try {
      const imported = await backupCli(
        'restore',
        first,
        '--to-defaults-file',
        cnf,
        '--to-database',
        'growth',
        '--force',
        '--json',
      );
      expect(imported.code, imported.out).toBe(0);
      const q = 'SELECT COUNT(*), SUM(CRC32(CONCAT(title, body))) FROM notes';
      const inBackup = await sql(q, 'e2m_scratch_restore');
      expect(await sql(q, 'growth')).toBe(inBackup);
      const back = await backupCli('run', '--from-defaults-file', cnf, '--from-database', 'growth', '--json');
      expect(back.code, back.out).toBe(0);
      expect(String(back.json?.object)).not.toBe(first);
    } finally {
      await sudo(ssh, ['rm', '-f', cnf]);
      await sudo(ssh, [
        'mariadb',
        '-e',
        "DROP DATABASE IF EXISTS growth; DROP USER IF EXISTS 'growth'@'127.0.0.1'",
      ]);
    }
  });

  it('killed mid-upload: no object that looks complete, and the next run is clean', async () => {
    // 96 MB of random bytes (hex in the dump) so the upload takes long enough to be caught. Kept
    // out of the binary log (root's session only): the emulator holds an upload in its 256 MB,
    // and 96 MB of row events shipped the next minute would not fit (real GCS streams them).
    await sql(`${NO_BINLOG} CREATE TABLE filler (id INT PRIMARY KEY, b VARBINARY(1024)) ENGINE=InnoDB`);
    await sql(`${NO_BINLOG} INSERT INTO filler SELECT seq, RANDOM_BYTES(1024) FROM seq_1_to_96000`);
    const before = await objects();
    await sudo(ssh, ['systemctl', 'start', '--no-block', 'e2m-backup.service']);
    let started = '';
    for (let i = 0; i < 150 && !started; i++) {
      const progress = (await journalEvents(5)).find(
        (l) => l.event === 'progress' && l.time > new Date(Date.now() - 60_000).toISOString(),
      );
      if (progress) started = progress.time;
      else await new Promise((r) => setTimeout(r, 100));
    }
    expect(started, 'the job never reported upload progress').not.toBe('');
    await sudo(ssh, ['systemctl', 'kill', '--signal=SIGKILL', 'e2m-backup.service']);
    for (let i = 0; i < 50; i++) {
      const s = await ssh.capture([
        'systemctl',
        'show',
        'e2m-backup.service',
        '-p',
        'ActiveState',
        '--value',
      ]);
      if (s !== 'activating' && s !== 'deactivating') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await ssh.capture(['systemctl', 'show', 'e2m-backup.service', '-p', 'Result', '--value'])).toBe(
      'signal',
    );
    expect(await objects()).toEqual(before);
    // The killed run left its lock behind; the next run takes it over.
    expect((await sudo(ssh, ['test', '-e', '/var/lib/e2m-backup/lock'], { check: false })).code).toBe(0);
    await sql(`${NO_BINLOG} DROP TABLE filler`);
    const r = await backupCli('run', '--json');
    expect(r.code, r.out).toBe(0);
    expect(await objects()).toHaveLength(before.length + 2);
  });

  it('a corrupted object fails verify, naming the cause', async () => {
    const [buf] = await bucket.file(first).download();
    buf[Math.floor(buf.length / 2)] ^= 0xff;
    await bucket.file(first).save(buf, { resumable: false }); // the emulator lets us; the VM may not
    const r = await backupCli('verify', first, '--json');
    expect(r.code).toBe(1);
    expect(String(r.json?.error)).toContain('does not match its manifest');
    const list = await backupCli('list', '--json');
    expect(list.code).toBe(0);
  });

  it('prune: a forged month of history (names and manifests a VM could upload) is refused, not kept', async () => {
    // What a compromised VM can do with create-only access: a month of dumps named 2030-01-01..31,
    // each with a manifest that matches its size and MD5. GCS stamps them all with today's time.
    const real = await objects(); // this file's own backups: all younger than the retention floor
    const made: string[] = [];
    for (let day = 1; day <= 31; day++) {
      const name = `twin/2030-01-${String(day).padStart(2, '0')}/twin-203001${String(day).padStart(2, '0')}T031500Z-r${day}.sql.zst`;
      await bucket.file(name).save(Buffer.from(`forged dump ${day}`), { resumable: false });
      const [meta] = await bucket.file(name).getMetadata();
      const manifest = { object: name, bytes: Number(meta.size), md5: meta.md5Hash, sha256: '', format: 1 };
      await bucket.file(`${name}.json`).save(JSON.stringify(manifest), { resumable: false });
      made.push(name);
    }
    const list = await backupCli('list', '--json');
    expect(list.code, list.out).toBe(0);
    const rejected = (list.json as unknown as { object: string; rejected?: string }[]).filter(
      (e) => e.rejected,
    );
    expect(rejected.map((e) => e.object)).toEqual(expect.arrayContaining(made));
    const prune = ['prune', '--daily', '3', '--weekly', '3', '--json'];
    const dry = await backupCli(...prune, '--dry-run');
    expect(dry.code, dry.out).toBe(0);
    expect(dry.json?.deleted).toEqual([]);
    const r = await backupCli(...prune);
    expect(r.code, r.out).toBe(0);
    expect(r.json?.deleted).toEqual([]);
    expect(((r.json?.rejected ?? []) as { object: string }[]).map((x) => x.object)).toEqual(
      expect.arrayContaining(made),
    );
    expect(r.out).not.toContain('MaxListenersExceededWarning');
    expect(await objects()).toEqual([...real, ...made.flatMap((m) => [m, `${m}.json`])].sort());
  });

  it('point in time: the timer ships each minute; restore --to-time lands between two writes a second apart', async () => {
    const base = await backupCli('run', '--json');
    expect(base.code, base.out).toBe(0);
    expect(await post('/notes', { title: 'pitr first', body: 'kept' })).toBe(201);
    await new Promise((r) => setTimeout(r, 1100));
    const between = new Date(Math.floor(Date.now() / 1000) * 1000);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await post('/notes', { title: 'pitr second', body: 'after the time' })).toBe(201);
    // What the timer runs each minute, started now so the test need not wait for it.
    await sudo(ssh, ['systemctl', 'start', 'e2m-binlog.service']);
    const shipped = await sudo(ssh, [
      'journalctl',
      '-u',
      'e2m-binlog.service',
      '-o',
      'cat',
      '--no-pager',
      '-n',
      '20',
    ]);
    const last = shipped.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l))
      .findLast((l) => l.event === 'shipped');
    expect(last).toMatchObject({ flushed: true });
    expect(last.cpuMs).toBeGreaterThan(0);

    const stamp = between.toISOString().slice(0, 19).replace('T', ' ');
    const r = await backupCli('restore', '--to-time', stamp, '--json');
    expect(r.code, r.out).toBe(0);
    expect(r.json).toMatchObject({ database: 'e2m_scratch_restore', toTime: between.toISOString() });
    const titles = await sql(
      "SELECT title FROM notes WHERE title LIKE 'pitr %' ORDER BY id",
      'e2m_scratch_restore',
    );
    expect(titles).toBe('pitr first');
    const status = await zxCli('incident.mjs', 'status', '--json');
    const line = ((status.json?.findings ?? []) as { id: string; level: string; summary: string }[]).find(
      (f) => f.id === 'binlog',
    );
    expect(line).toMatchObject({ level: 'ok', summary: expect.stringMatching(/^binlogs shipped \d+ s ago/) });
  });
});
