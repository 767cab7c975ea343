// The compiled backup job against a real MariaDB and fake-gcs-server: what it uploads, what it
// refuses, how it fails. The twin e2e (test/e2e/50-backup.test.ts) adds systemd, the timer's
// limits, the VM's user and grants, a kill mid-upload and retention through the CLI.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { Bucket } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createStorage } from '../../scripts/lib/gcs.ts';
import { type Gcs, type JobEnv, jobEnv, startGcs } from './support.ts';

let gcs: Gcs;
let job: JobEnv;
let bucket: Bucket;

const sql = (query: string, database?: string) => job.sql(query, database);

beforeAll(async () => {
  gcs = await startGcs();
  job = await jobEnv(inject('mysqlAdminUrl'), gcs.endpoint);
  bucket = createStorage({ projectId: 'e2m-test', gcsEndpoint: gcs.endpoint }).bucket('e2m-test-backups');
  await bucket.create();
  spawnSync('mariadb', [
    `--defaults-extra-file=${job.defaultsFile}`,
    '-e',
    'CREATE DATABASE IF NOT EXISTS app',
  ]);
  sql(
    'CREATE TABLE note (id INT AUTO_INCREMENT PRIMARY KEY, body TEXT NOT NULL, created_at DATETIME(3) NOT NULL) ENGINE=InnoDB',
  );
  sql(
    "INSERT INTO note (body, created_at) SELECT CONCAT('note ', seq, ' ', SHA2(seq, 256)), NOW(3) FROM seq_1_to_5000",
  );
  writeFileSync(join(job.dir, 'state.json'), JSON.stringify({ colour: 'blue', release: '20261123-abc1234' }));
}, 120_000);

afterAll(() => gcs?.stop());

async function objects(): Promise<string[]> {
  const [files] = await bucket.getFiles({ prefix: 'test/' });
  return files.map((f) => f.name).sort();
}

describe('backup job (compiled, real MariaDB, fake-gcs-server)', () => {
  let first: string;

  it('usage: --help exits 0; an unknown command or a bad config exits 2 and names the problem', () => {
    const help = spawnSync(job.binary, ['--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('verify [OBJECT]');
    expect(job.run('bogus').code).toBe(2);
    const badConfig = join(job.dir, 'bad.env');
    writeFileSync(badConfig, `${readFileSync(job.configFile, 'utf8')}BACKUP_ZSTD_LEVEL=99\n`);
    const bad = spawnSync(job.binary, ['run', '--config', badConfig], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain(`${badConfig}: BACKUP_ZSTD_LEVEL must be an integer 1..19 (got "99")`);
  });

  it('run --dry-run names the object and the exact pipeline, and uploads nothing', async () => {
    const r = job.run('run', '--dry-run', '--json');
    expect(r.code).toBe(0);
    expect(r.lines[0]).toMatchObject({ object: expect.stringMatching(/^test\//) });
    expect(String(r.lines[0].script)).toContain('mariadb-dump');
    expect(await objects()).toEqual([]);
  });

  it('run: uploads the dump and then its manifest, named by env, time and release', async () => {
    const r = job.run('run');
    expect(r.code, r.stderr).toBe(0);
    const done = r.lines.find((l) => l.event === 'done') as { object: string; bytes: number; sha256: string };
    expect(done.object).toMatch(
      /^test\/\d{4}-\d{2}-\d{2}\/test-\d{8}T\d{6}\.\d{3}Z-20261123-abc1234\.sql\.zst$/,
    );
    first = done.object;
    expect(await objects()).toEqual([first, `${first}.json`]);
    const [meta] = await bucket.file(first).getMetadata();
    expect(Number(meta.size)).toBe(done.bytes);
    expect(meta.metadata).toMatchObject({ env: 'test', release: '20261123-abc1234', database: 'app' });
    expect(String(meta.metadata?.dumpTool)).toMatch(/^mariadb-dump/);
    const manifest = JSON.parse((await bucket.file(`${first}.json`).download())[0].toString());
    expect(manifest).toMatchObject({
      object: first,
      bytes: done.bytes,
      sha256: done.sha256,
      md5: meta.md5Hash,
    });
    const last = JSON.parse(readFileSync(join(job.dir, 'last.json'), 'utf8'));
    expect(last).toMatchObject({ ok: true, object: first, bytes: done.bytes });
  });

  it('list: the backup, complete', () => {
    const r = job.run('list', '--json');
    expect(r.code).toBe(0);
    expect(r.lines[0]).toEqual([expect.objectContaining({ object: first, complete: true })]);
  });

  it('restore: into a scratch database by default, every row back', () => {
    const r = job.run('restore', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(sql('SELECT COUNT(*), SUM(CRC32(body)) FROM note', 'e2m_scratch_restore')).toBe(
      sql('SELECT COUNT(*), SUM(CRC32(body)) FROM note'),
    );
  });

  it('restore refuses production without --force, and names it', () => {
    const r = job.run('restore', '--to-database', 'app');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('refusing to restore into app');
    expect(r.stderr).toContain('this is production');
  });

  it('verify: the drill matches every table, and fails when production has moved on', () => {
    const ok = job.run('verify', '--json');
    expect(ok.code, ok.stderr).toBe(0);
    const report = ok.lines.at(-1) as { ok: boolean; tables: { table: string; ok: boolean }[] };
    expect(report.ok).toBe(true);
    expect(report.tables).toEqual([
      { table: 'note', ok: true, production: expect.anything(), restored: expect.anything() },
    ]);
    sql("INSERT INTO note (body, created_at) VALUES ('after the dump', NOW(3))");
    const moved = job.run('verify', '--json');
    expect(moved.code).toBe(1);
    expect((moved.lines.at(-1) as { ok: boolean }).ok).toBe(false);
    expect(sql("SHOW DATABASES LIKE 'e2m_scratch_verify'")).toBe(''); // the drill cleans up
  });

  it('a failed dump exits 1, uploads nothing, records why', async () => {
    const before = await objects();
    const bad = await jobEnv(inject('mysqlAdminUrl'), gcs.endpoint, { BACKUP_DATABASE: 'no_such_db' });
    const r = bad.run('run');
    expect(r.code).toBe(1);
    const failed = r.lines.find((l) => l.event === 'failed') as { error: string };
    expect(failed.error).toMatch(/dump failed \(dump=2: .*no_such_db/);
    expect(await objects()).toEqual(before);
    expect(JSON.parse(readFileSync(join(bad.dir, 'last.json'), 'utf8'))).toMatchObject({ ok: false });
  });

  it('no credentials: exits 1 naming them, before any dump or upload', async () => {
    const before = await objects();
    const config = join(job.dir, 'auth.env');
    writeFileSync(config, `${readFileSync(job.configFile, 'utf8')}BACKUP_GCS_AUTH=on\n`);
    // As on a VM whose metadata server cannot be reached: nothing answers there, and no key file.
    const r = spawnSync(job.binary, ['run', '--config', config], {
      encoding: 'utf8',
      timeout: 120_000,
      env: { PATH: process.env.PATH, HOME: job.dir, GCE_METADATA_HOST: '127.0.0.1:9' },
    });
    expect(r.status, r.stderr).toBe(1);
    const failed = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l))
      .find((l) => l.event === 'failed');
    expect(String(failed?.error)).toMatch(/^cannot get Cloud Storage credentials \(the metadata server/);
    expect(JSON.parse(readFileSync(join(job.dir, 'last.json'), 'utf8'))).toMatchObject({ ok: false });
    expect(await objects()).toEqual(before);
  });

  it('run --from-defaults-file dumps the server that file names (the way back from Cloud SQL)', () => {
    const other = join(job.dir, 'other.cnf');
    writeFileSync(other, readFileSync(job.defaultsFile, 'utf8').replace(/password=.*/, 'password="wrong"'));
    const r = job.run('run', '--from-defaults-file', other);
    expect(r.code).toBe(1);
    expect(String(r.lines.find((l) => l.event === 'failed')?.error)).toMatch(/dump=2: .*Access denied/);
    writeFileSync(other, readFileSync(job.defaultsFile, 'utf8'));
    expect(job.run('run', '--from-defaults-file', other).code).toBe(0);
  });

  it('a stale lock (its process gone) does not block the next run; a live one does', () => {
    writeFileSync(join(job.dir, 'lock'), '999999\n');
    expect(job.run('run').code).toBe(0);
    writeFileSync(join(job.dir, 'lock'), `${process.pid}\n`);
    const r = job.run('run');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`another backup (pid ${process.pid}) holds`);
  });

  it('a corrupted object fails verify and restore --force before any write', async () => {
    const [buf] = await bucket.file(first).download();
    buf[Math.floor(buf.length / 2)] ^= 0xff;
    await bucket.file(first).save(buf, { resumable: false });
    // The object's MD5 and size (GCS's own) no longer match the manifest: it is not even tried.
    const r = job.run('verify', first, '--json');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${first} is not trusted: it does not match its manifest: GCS's MD5 is`);
    const rows = sql('SELECT COUNT(*) FROM note');
    const forced = job.run('restore', first, '--to-database', 'app', '--force');
    expect(forced.code).toBe(1);
    expect(forced.stderr).toContain('does not match its manifest');
    expect(sql('SELECT COUNT(*) FROM note')).toBe(rows);
  });

  it('age: dumps encrypted to the recipient; restore and verify need the identity', async () => {
    const keyFile = join(job.dir, 'age.key');
    spawnSync('age-keygen', ['-o', keyFile]);
    const recipient = /public key: (age1\w+)/.exec(readFileSync(keyFile, 'utf8'))?.[1] ?? '';
    const enc = await jobEnv(inject('mysqlAdminUrl'), gcs.endpoint, {
      BACKUP_ENV: 'enc',
      BACKUP_AGE_RECIPIENTS: recipient,
    });
    const r = enc.run('run');
    expect(r.code, r.stderr).toBe(0);
    const object = String(r.lines.find((l) => l.event === 'done')?.object);
    expect(object).toMatch(/\.sql\.zst\.age$/);
    const [head] = await bucket.file(object).download({ start: 0, end: 20 });
    expect(head.toString()).toMatch(/^age-encryption\.org\/v1/);
    const manifest = JSON.parse((await bucket.file(`${object}.json`).download())[0].toString());
    expect(manifest.encryption).toBe('age');
    const without = enc.run('restore');
    expect(without.code).toBe(1);
    expect(without.stderr).toContain('is encrypted with age: give --identity FILE');
    expect(enc.run('restore', '--identity', keyFile).code).toBe(0);
    expect(sql('SELECT COUNT(*) FROM note', 'e2m_scratch_restore')).toBe(sql('SELECT COUNT(*) FROM note'));
    const verify = enc.run('verify', '--identity', keyFile, '--json');
    expect(verify.code, verify.stdout).toBe(0);
  });

  it('checks in to Sentry: in_progress then ok on a good night, in_progress then error with the exception on a bad one', async () => {
    const envelopes: string[] = [];
    const server: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        envelopes.push(body);
        res.end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const dsn = `http://publickey@127.0.0.1:${(server.address() as { port: number }).port}/1`;
    // Not spawnSync: this process must keep serving the DSN's endpoint while the job runs.
    const runJob = (env: JobEnv) =>
      new Promise<number | null>((resolve) => {
        spawn(env.binary, ['run', '--config', env.configFile], { stdio: 'ignore' }).on('exit', resolve);
      });
    // Each envelope is a header line, then item header and payload lines.
    const checkIns = () =>
      envelopes.flatMap((e) => {
        const lines = e.split('\n').filter(Boolean);
        return lines.flatMap((line, i) =>
          i > 0 && JSON.parse(line).type === 'check_in' ? [JSON.parse(lines[i + 1])] : [],
        );
      });
    try {
      const good = await jobEnv(inject('mysqlAdminUrl'), gcs.endpoint, {
        SENTRY_DSN: dsn,
        BACKUP_ON_CALENDAR: 'Mon..Fri *-*-* 02:30:00',
        BACKUP_RANDOMIZED_DELAY: '10min',
        BACKUP_TIMEOUT: '30min',
      });
      expect(await runJob(good)).toBe(0);
      const [start, end] = checkIns();
      expect(start).toMatchObject({
        monitor_slug: 'e2m-backup-test',
        status: 'in_progress',
        monitor_config: {
          schedule: { type: 'crontab', value: '30 2 * * 1-5' },
          checkin_margin: 15,
          max_runtime: 30,
          timezone: 'Etc/UTC',
        },
      });
      expect(end).toMatchObject({ check_in_id: start.check_in_id, status: 'ok' });
      expect(end.duration).toBeGreaterThan(0);
      expect(checkIns()).toHaveLength(2);

      envelopes.length = 0;
      const bad = await jobEnv(inject('mysqlAdminUrl'), gcs.endpoint, {
        BACKUP_BUCKET: 'no-such-bucket',
        SENTRY_DSN: dsn,
      });
      expect(await runJob(bad)).toBe(1);
      expect(checkIns().map((c) => c.status)).toEqual(['in_progress', 'error']);
      expect(envelopes.join('\n')).toContain('no-such-bucket');
    } finally {
      server.close();
    }
  });
});
