// `npm run bench -- backup`: the compiled backup job against a real MariaDB and fake-gcs-server
// on loopback, at growing database sizes. For each size it prints the time of a plain
// `mariadb-dump | zstd > /dev/null` (the same options, the floor), of the same pipeline into curl
// uploading to the same emulator (the floor with the upload, so the emulator's share is seen), the
// job's time (the same dump streamed into a resumable upload, hashed, then a manifest) and the part
// of it before and after the run itself (start-up, exit), their ratios (goal >= 0.9 at 1 GB), the
// job's peak RSS (ru_maxrss) and its peak anonymous memory (sampled; goal <= 32 MB and flat as the
// data grows) and the restore time.
// Options: --sizes 200,1000 (MB of row data to generate), --reps 2 (best of N per measurement).
import { spawnSync } from 'node:child_process';
import { argv, echo } from 'zx';
import { startServices } from '../backend/test/support/services.ts';
import { dumpScript } from '../scripts/lib/backup/plan.ts';
import { createStorage } from '../scripts/lib/gcs.ts';
import { jobEnv, startGcs } from '../test/backup/support.ts';

const sizes = String(argv.sizes ?? '200,1000')
  .split(',')
  .map(Number);
const reps = Number(argv.reps ?? 2);
const t0 = Date.now();
const step = (msg: string) => echo(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);

const services = await startServices();
const gcs = await startGcs();
try {
  const job = await jobEnv(services.mysqlAdminUrl, gcs.endpoint);
  await createStorage({ projectId: 'e2m-test', gcsEndpoint: gcs.endpoint })
    .bucket('e2m-test-backups')
    .create();
  const { sql } = job;
  const timed = <T>(fn: () => T) => {
    let best = Number.POSITIVE_INFINITY;
    let last: T | undefined;
    for (let i = 0; i < reps; i++) {
      const t = Date.now();
      last = fn();
      best = Math.min(best, Date.now() - t);
    }
    return { ms: best, last };
  };
  spawnSync('mariadb', [`--defaults-extra-file=${job.defaultsFile}`, '-e', 'CREATE DATABASE app']);
  // Notes-like rows: a title, a text body of hashes and words (compresses about as real text does).
  sql(
    'CREATE TABLE notes (id BIGINT AUTO_INCREMENT PRIMARY KEY, title VARCHAR(200) NOT NULL, body TEXT NOT NULL, created_at DATETIME(3) NOT NULL) ENGINE=InnoDB',
  );
  const rows = [];
  let have = 0;
  for (const mb of sizes) {
    // ~400 bytes a row
    const want = Math.round((mb * 1e6) / 400);
    step(`generating rows up to ${mb} MB of data (${want} rows)`);
    for (let from = have + 1; from <= want; from += 100_000) {
      const to = Math.min(want, from + 99_999);
      sql(
        `INSERT INTO notes (title, body, created_at) SELECT CONCAT('note ', seq), CONCAT_WS(' ', SHA2(seq, 256), 'the quick brown fox', MD5(seq), REPEAT('lorem ipsum ', 1 + seq % 20), SHA2(seq * 7, 512)), NOW(3) FROM seq_${from}_to_${to}`,
      );
    }
    have = want;
    const dataMb = Number(sql('SELECT SUM(LENGTH(title) + LENGTH(body) + 16) FROM notes')) / 1e6;

    step(`${mb} MB: plain mariadb-dump | zstd > /dev/null`);
    const plain = timed(() => {
      const script = dumpScript({ defaultsFile: job.defaultsFile, database: 'app', zstdLevel: 3 });
      const r = spawnSync('bash', ['-c', `{ ${script}; } > /dev/null`], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`plain dump failed: ${r.stderr}`);
    });
    step(`${mb} MB: the same pipeline into curl, uploading to the emulator`);
    let n = 0;
    const curl = timed(() => {
      const script = dumpScript({ defaultsFile: job.defaultsFile, database: 'app', zstdLevel: 3 });
      const url = `${gcs.endpoint}/upload/storage/v1/b/e2m-test-backups/o?uploadType=media&name=floor/${mb}-${++n}.zst`;
      const r = spawnSync(
        'bash',
        [
          '-c',
          `{ ${script}; } | curl -sS --fail -o /dev/null -X POST -H 'Content-Type: application/zstd' -T - '${url}'`,
        ],
        { encoding: 'utf8' },
      );
      if (r.status !== 0) throw new Error(`dump into curl failed: ${r.stderr}`);
    });
    step(`${mb} MB: the job (dump | zstd -> resumable upload -> manifest)`);
    const gcsCpu0 = gcs.cpuSeconds();
    const run = timed(() => {
      const r = job.run('run');
      if (r.code !== 0) throw new Error(`job failed: ${r.stderr}`);
      return r.lines.find((l) => l.event === 'done');
    });
    const gcsCpu = (gcs.cpuSeconds() - gcsCpu0) / reps;
    step(`${mb} MB: restore into a scratch database`);
    const restore = timed(() => {
      const r = job.run('restore');
      if (r.code !== 0) throw new Error(`restore failed: ${r.stderr}`);
    });
    rows.push({
      mb,
      dataMb,
      dumpMb: Number(run.last?.bytes) / 1e6,
      plainS: plain.ms / 1000,
      curlS: curl.ms / 1000,
      jobS: run.ms / 1000,
      // The process's wall time outside runBackup: start-up, configuration, exit.
      outsideS: (run.ms - Number(run.last?.durationMs)) / 1000,
      ratio: plain.ms / run.ms,
      curlRatio: curl.ms / run.ms,
      rssMb: Number(run.last?.maxRssKb) / 1024,
      anonMb: Number(run.last?.peakAnonKb) / 1024,
      gcsCpu,
      restoreS: restore.ms / 1000,
    });
  }
  echo('\nbackup job vs plain dump (best of', reps, 'runs each; same host, same run)');
  echo(
    '| row data MB | dump .zst MB | plain dump\\|zstd s | the same into curl to the emulator s | job s | of it outside the run s | ratio to plain | ratio to curl | job peak RSS MB | peak anonymous MB | emulator CPU s per run | restore s |',
  );
  echo('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows)
    echo(
      `| ${r.dataMb.toFixed(0)} | ${r.dumpMb.toFixed(1)} | ${r.plainS.toFixed(2)} | ${r.curlS.toFixed(2)} | ${r.jobS.toFixed(2)} | ${r.outsideS.toFixed(2)} | ${r.ratio.toFixed(2)} | ${r.curlRatio.toFixed(2)} | ${r.rssMb.toFixed(1)} | ${r.anonMb.toFixed(1)} | ${r.gcsCpu.toFixed(2)} | ${r.restoreS.toFixed(2)} |`,
    );
} finally {
  gcs.stop();
  await services.stop();
}
