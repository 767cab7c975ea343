// `npm run bench -- pitr`: point-in-time recovery's RPO, RTO and cost, with the compiled job
// against a real MariaDB (binary logs on, ROW) and fake-gcs-server on loopback.
// A writer commits one row every --interval ms (default 50: 20 writes/s) and keeps the time of
// each acknowledged commit; the shipper runs as e2m-binlog.timer does, at each wall-clock minute;
// after --minutes (default 3) shipping runs and a random part of the next minute, MariaDB is
// SIGKILLed (the VM is lost). Then a fresh MariaDB (the new VM) gets `restore --to-time latest`.
// Prints: seconds of acknowledged writes lost (RPO, goal <= 60), rows lost, the restore's
// seconds (RTO), each shipping run's CPU ms, peak RSS and bytes, and the bucket's growth a day at
// this write rate. CPU time is what the job used, whatever the CPU's speed.
import { spawnSync } from 'node:child_process';
import { argv, echo } from 'zx';
import { startServices } from '../backend/test/support/services.ts';
import { createStorage } from '../scripts/lib/gcs.ts';
import { jobEnv, startGcs } from '../test/backup/support.ts';

const interval = Number(argv.interval ?? 50);
const minutes = Number(argv.minutes ?? 3);
const t0 = Date.now();
const step = (msg: string) => echo(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const env = { BACKUP_ENV: 'rpo', BACKUP_BINLOG: 'on' };

const lost = await startServices();
const gcs = await startGcs();
let fresh: Awaited<ReturnType<typeof startServices>> | undefined;
try {
  await createStorage({ projectId: 'e2m-test', gcsEndpoint: gcs.endpoint })
    .bucket('e2m-test-backups')
    .create();
  const vm = await jobEnv(lost.mysqlAdminUrl, gcs.endpoint, env);
  vm.sql('CREATE DATABASE app', 'mysql');
  vm.sql(
    'CREATE TABLE w (id BIGINT AUTO_INCREMENT PRIMARY KEY, at DATETIME(3) NOT NULL, pad VARCHAR(200) NOT NULL)',
  );
  const base = vm.run('run');
  if (base.code !== 0) throw new Error(`base dump: ${base.stderr}`);
  step(`base dump taken; writing a row every ${interval} ms`);

  // mysql2 is the backend's dependency (as bench/http.ts reaches it).
  const mysql = (await import('../backend/node_modules/mysql2/promise.js')).default;
  const conn = await mysql.createConnection(`${lost.mysqlAdminUrl}/app`);
  let acked = 0;
  let lastAck = 0;
  let writing = true;
  const writer = (async () => {
    while (writing) {
      const at = new Date();
      try {
        await conn.query('INSERT INTO w (at, pad) VALUES (?, REPEAT(?, 100))', [at, 'x']);
      } catch {
        return; // the crash
      }
      acked++;
      lastAck = at.getTime();
      await sleep(interval);
    }
  })();

  const runs: {
    cpuMs: number;
    maxRssKb: number;
    anonKb: number;
    bytes: number;
    shipped: number;
    ms: number;
  }[] = [];
  for (let i = 0; i < minutes; i++) {
    await sleep(60_000 - (Date.now() % 60_000)); // the timer: OnCalendar=*:*:00
    // Through bash's `times`: the job's CPU with its start-up and every child it waited for
    // (mariadb, mariadb-binlog), which is what the minute costs the VM.
    const timed = spawnSync(
      'bash',
      ['-c', '"$@"; s=$?; times; exit $s', 'bench', vm.binary, 'binlogs', '--config', vm.configFile],
      { encoding: 'utf8' },
    );
    const lines = timed.stdout.trim().split('\n');
    const done = lines
      .map((l) => (l.startsWith('{') ? JSON.parse(l) : undefined))
      .find((l) => l?.event === 'shipped');
    if (timed.status !== 0 || !done) throw new Error(`binlogs: ${timed.stderr}`);
    const [user, sys] = (lines.at(-1) ?? '').split(' ').map((t) => {
      const m = /^(\d+)m([\d.]+)s$/.exec(t);
      return m ? Number(m[1]) * 60 + Number(m[2]) : Number.NaN;
    });
    runs.push({
      cpuMs: Math.round((user + sys) * 1000),
      maxRssKb: Number(done.maxRssKb),
      anonKb: Number(done.rssAnonKb),
      bytes: Number(done.bytes),
      shipped: done.shipped.length,
      ms: Number(done.durationMs),
    });
    step(
      `shipping run ${i + 1}: ${runs.at(-1)?.bytes} B in ${runs.at(-1)?.shipped} log(s), ${runs.at(-1)?.cpuMs} ms CPU`,
    );
  }
  await sleep(Math.floor(Math.random() * 60_000));
  lost.crashMariadb();
  const crashedAt = Date.now();
  writing = false;
  await writer;
  await conn.end().catch(() => undefined);
  step(`MariaDB killed; ${acked} writes acknowledged, the last at ${new Date(lastAck).toISOString()}`);

  fresh = await startServices();
  const vm2 = await jobEnv(fresh.mysqlAdminUrl, gcs.endpoint, env);
  const t = Date.now();
  const r = vm2.run('restore', '--to-time', 'latest', '--json');
  const rtoS = (Date.now() - t) / 1000;
  if (r.code !== 0) throw new Error(`restore: ${r.stderr}`);
  const [rows, newest] = vm2
    .sql('SELECT COUNT(*), UNIX_TIMESTAMP(MAX(at)) * 1000 FROM w', 'e2m_scratch_restore')
    .split('\t');
  const rpoS = (lastAck - Number(newest)) / 1000;
  const perMinute = runs.reduce((a, x) => a + x.bytes, 0) / runs.length;
  echo('');
  echo(`writes: 1 row of ~120 B every ${interval} ms (${(1000 / interval).toFixed(0)}/s), autocommit`);
  echo(
    `RPO: ${rpoS.toFixed(1)} s of acknowledged writes lost (${acked - Number(rows)} of ${acked} rows); crash ${((crashedAt - t0) / 1000).toFixed(0)} s into the run`,
  );
  echo(`RTO: restore --to-time latest into a fresh MariaDB took ${rtoS.toFixed(1)} s`);
  echo(
    'shipping runs: CPU ms (the whole process: start-up, job, mariadb clients) | peak RSS MB | anonymous MB | bytes | logs | wall ms',
  );
  for (const x of runs)
    echo(
      `  ${x.cpuMs} | ${(x.maxRssKb / 1024).toFixed(0)} | ${(x.anonKb / 1024).toFixed(0)} | ${x.bytes} | ${x.shipped} | ${x.ms}`,
    );
  echo(`bucket growth at this rate: ${((perMinute * 1440) / 1e6).toFixed(0)} MB a day of binlogs`);
} finally {
  await fresh?.stop();
  await lost.stop().catch(() => undefined);
  gcs.stop();
}
