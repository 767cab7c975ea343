// `npm run backup`'s command line: its options and commands, from which the parser reads argv
// and --help is written (lib/cli/args.ts).
import { type CliSpec, helpOption, targetOption } from '../cli/args.ts';
import { DEFAULT_RETENTION, vmPaths } from './plan.ts';

export const backupSpec: CliSpec = {
  script: 'backup.mjs',
  usage: 'zx scripts/backup.mjs <command> [options]     (or: npm run backup -- <command>)',
  commandsTitle: 'Commands:',
  column: 23,
  options: {
    target: targetOption('which VM and bucket (default twin)'),
    'dry-run': { type: 'boolean', help: 'say what would happen, change nothing' },
    json: { type: 'boolean', help: 'machine-readable output' },
    'to-database': { type: 'string', value: 'NAME' },
    'to-defaults-file': { type: 'string', value: 'FILE' },
    'from-defaults-file': { type: 'string', value: 'FILE' },
    'from-database': { type: 'string', value: 'NAME' },
    identity: { type: 'string', value: 'FILE' },
    before: { type: 'string', value: 'TIME' },
    'to-time': { type: 'string', value: 'TIME' },
    force: { type: 'boolean' },
    online: { type: 'boolean', help: 'restore over production while the app serves (its writes interleave)' },
    daily: { type: 'string', value: 'N' },
    weekly: { type: 'string', value: 'M' },
    'keep-newest': { type: 'string', value: 'K' },
    'min-age-days': { type: 'string', value: 'D' },
    now: { type: 'string', value: 'ISO' },
    help: helpOption,
  },
  commands: {
    run: {
      summary: "start the VM's backup now (the unit the nightly timer starts), wait, report",
      args: '[--from-defaults-file FILE [--from-database NAME]]',
      options: ['target', 'dry-run', 'json'],
      about: `Starts ${vmPaths.unit} (as the timer does: user ${vmPaths.user}, its memory and time limits),
waits for it, and prints its result (${vmPaths.lastRunFile}). The dump is one consistent
snapshot streamed through zstd into a create-only resumable upload; a manifest written last
marks it complete. Exit 1 when the job failed. --from-defaults-file dumps another server (a
MariaDB client option file on the VM, readable by ${vmPaths.user}), e.g. Cloud SQL (README).`,
    },
    list: {
      summary: "the environment's backups in the bucket, newest first, each judged",
      options: ['target', 'json'],
      about: `Backups under gs://<bucket>/<env>/, newest first by GCS's creation time (timeCreated, which
the VM cannot set), not by the time in their names. "!" marks an incomplete one (no manifest);
"x" a rejected one, with why: a name GCS's time contradicts (dated in the future, or not within
the job's longest run of its creation), or a manifest that does not match the object (size, MD5,
name, or written later than the job writes it). Rejected objects are never restored or counted.`,
    },
    restore: {
      synopsis: 'restore [OBJECT]',
      summary: 'restore OBJECT (default: newest trusted) into a scratch database',
      args: '[OBJECT]',
      options: [
        'before',
        'to-time',
        'to-database',
        'to-defaults-file',
        'force',
        'online',
        'identity',
        'target',
        'dry-run',
        'json',
      ],
      about: `Restores into e2m_scratch_restore unless --to-database names another e2m_scratch_* database.
Any other database (production included) needs --force and an explicit OBJECT or --before TIME
(no default: a compromised VM can upload a dump that would be the newest). --before TIME (ISO,
with its zone) takes the newest trusted backup GCS created at or before TIME, e.g. the last
before a compromise. The object is checked against its manifest before a byte is written.
--to-time TIME is point-in-time recovery: the newest trusted backup made before TIME, then the
binary logs shipped every minute replayed up to TIME ("YYYY-MM-DD HH:MM:SS" in UTC, or ISO with
its zone; one-second resolution), or latest (all that was shipped: after a lost VM).
Over a database on the VM it is refused while the app takes writes (its kill switch off)
unless --online, and the nightly unit first takes a safety dump, named in the answer: restore
that to undo. A rejected object (see list) is never restored.
--to-defaults-file names a MariaDB client option file on the VM (host, port, user, password)
for another server, e.g. Cloud SQL when moving (README).
--identity FILE: the age private key (on this machine) of an encrypted backup; it is copied to
the VM's tmpfs for this command only and removed after.`,
    },
    verify: {
      synopsis: 'verify [OBJECT]',
      summary: `the drill: restore into a scratch database and compare every table with
production (rows and CHECKSUM TABLE); exit 1 on any mismatch`,
      args: '[OBJECT]',
      options: ['before', 'identity', 'target', 'json'],
      about: `Restores OBJECT (default: the newest trusted; with --before TIME, the newest trusted GCS
created at or before TIME) into e2m_scratch_verify, compares row counts and
CHECKSUM TABLE of every table with production, drops the scratch copy. Exit 1 on a mismatch,
a corrupted or rejected object or a failed restore. Run it when writes are quiet: rows written
since the dump count as a mismatch.`,
    },
    prune: {
      summary: 'delete backups beyond the retention policy (keep N daily, M weekly)',
      options: ['daily', 'weekly', 'keep-newest', 'min-age-days', 'now', 'target', 'dry-run', 'json'],
      about: `Keeps the newest trusted backup of each of the last N days (default ${DEFAULT_RETENTION.daily}) and of each of the
last M ISO weeks (default ${DEFAULT_RETENTION.weekly}), and the newest K trusted ones (--keep-newest, default ${DEFAULT_RETENTION.newest}); deletes
the rest with their manifests. Days are GCS's creation times, never the names'. Never deletes
anything younger than D days (--min-age-days, default ${DEFAULT_RETENTION.minAgeDays}) or the bucket's retention policy,
whichever is longer, nor a rejected object (see list): those are reported, and the bucket's
lifecycle rule ages them out. Incomplete dumps older than a day go too. Runs here with your
credentials (the VM may not delete).`,
    },
    build: {
      summary: "build the VM's job binary (setup does this; prints its path)",
      options: ['json'],
      about: 'Builds scripts/backup-job.mjs into one binary (bun build --compile), cached by its inputs.',
    },
  },
};
