// The job's I/O on the VM, as scripts/backup-job.mjs hands it to runJob (job-cli.ts): the
// process (stdout, stderr, SIGTERM, exit) and job.ts's dump, upload, listing and restore.
import { writeFileSync } from 'node:fs';
import { drillPointInTime, pitrWindow, restoreToTime, shipBinlogs } from './binlog.ts';
import { startCheckIn } from './checkin.ts';
import {
  acquireLock,
  findBackup,
  listBackups,
  loadConfig,
  memory,
  restoreBackup,
  runBackup,
  verifyBackup,
} from './job.ts';
import type { JobIo } from './job-cli.ts';

export const vmJobIo: JobIo = {
  stdout: (line) => console.log(line),
  stderr: (line) => console.error(line),
  now: () => new Date(),
  loadConfig(file) {
    const cfg = loadConfig(file);
    // `sudo -u e2m-backup` keeps the caller's working directory, which this user may not enter;
    // child processes would then fail to start (EACCES). Nothing here uses relative paths.
    process.chdir('/');
    return cfg;
  },
  writeFile: (path, text) => writeFileSync(path, text),
  acquireLock,
  onSigterm: (handler) => process.once('SIGTERM', handler),
  exit: (code) => process.exit(code),
  runBackup,
  memory,
  startCheckIn,
  shipBinlogs: (cfg, log) => shipBinlogs(cfg, log),
  restoreToTime,
  pitrWindow,
  drillPointInTime,
  listBackups: (cfg) => listBackups(cfg),
  findBackup,
  restoreBackup,
  verifyBackup,
};
