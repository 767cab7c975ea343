#!/usr/bin/env zx
// zx scripts/backup.mjs <command>: the operator's side of the backups. `run`, `list`, `restore`
// and `verify` run the VM's job (scripts/backup-job.mjs, compiled by setup) over SSH; `prune`
// deletes from this machine, because the VM's service account may not delete (terraform/iam.tf).
// Exit code: 0 ok, 1 failed, 2 usage.
import { resolve } from 'node:path';
import { chalk, echo, fs, minimist } from 'zx';
import { buildJob } from './lib/backup/build.ts';
import { pruneBackups } from './lib/backup/job.ts';
import { DEFAULT_RETENTION, vmPaths } from './lib/backup/plan.ts';
import { failer, handleHelp } from './lib/cli.ts';
import { createStorage } from './lib/gcs.ts';
import { SshRunner, toShell } from './lib/runner.ts';
import { loadTarget, TargetError } from './lib/target.ts';

const HELP = {
  main: `Usage: zx scripts/backup.mjs <command> [options]     (or: npm run backup -- <command>)

Commands:
  run                  start the VM's backup now (the unit the nightly timer starts), wait, report
  list                 the environment's backups in the bucket, newest first
  restore [OBJECT]     restore OBJECT (default: newest complete) into a scratch database
  verify [OBJECT]      the drill: restore into a scratch database and compare every table with
                       production (rows and CHECKSUM TABLE); exit 1 on any mismatch
  prune                delete backups beyond the retention policy (keep N daily, M weekly)
  build                build the VM's job binary (setup does this; prints its path)

Options (every command):
  --target twin|dev|staging|prod   which VM and bucket (default twin)
  --dry-run                        say what would happen, change nothing
  --json                           machine-readable output
  -h, --help                       help (also after a command)`,
  run: `Usage: run [--from-defaults-file FILE [--from-database NAME]] [--target T] [--dry-run] [--json]
Starts ${vmPaths.unit} (as the timer does: user ${vmPaths.user}, its memory and time limits),
waits for it, and prints its result (${vmPaths.lastRunFile}). The dump is one consistent
snapshot streamed through zstd into a create-only resumable upload; a manifest written last
marks it complete. Exit 1 when the job failed. --from-defaults-file dumps another server (a
MariaDB client option file on the VM, readable by ${vmPaths.user}), e.g. Cloud SQL (README).`,
  list: 'Usage: list [--target T] [--json]\nBackups under gs://<bucket>/<env>/, newest first; "!" marks an incomplete one (no manifest).',
  restore: `Usage: restore [OBJECT] [--to-database NAME] [--to-defaults-file FILE] [--force] [--identity FILE] [--target T] [--dry-run] [--json]
Restores into e2m_scratch_restore unless --to-database names another e2m_scratch_* database.
Any other database (production included) needs --force; the object is then checked against its
manifest before a byte is written. --to-defaults-file names a MariaDB client option file on
the VM (host, port, user, password) for another server, e.g. Cloud SQL when moving (README).
--identity FILE: the age private key (on this machine) of an encrypted backup; it is copied to
the VM's tmpfs for this command only and removed after.`,
  verify: `Usage: verify [OBJECT] [--identity FILE] [--target T] [--json]
Restores OBJECT (default: newest complete) into e2m_scratch_verify, compares row counts and
CHECKSUM TABLE of every table with production, drops the scratch copy. Exit 1 on a mismatch,
a corrupted object or a failed restore. Run it when writes are quiet: rows written since the
dump count as a mismatch.`,
  prune: `Usage: prune [--daily N] [--weekly M] [--now ISO] [--target T] [--dry-run] [--json]
Keeps the newest complete backup of each of the last N days (default ${DEFAULT_RETENTION.daily}) and of each of the
last M ISO weeks (default ${DEFAULT_RETENTION.weekly}), and always the newest; deletes the rest with their manifests.
Incomplete dumps older than a day go too. Runs here with your credentials. The bucket's own
lifecycle rule (terraform) is the second line.`,
  build:
    'Usage: build [--json]\nBuilds scripts/backup-job.mjs into one binary (bun build --compile), cached by its inputs.',
};

const argv = minimist(process.argv.slice(process.argv.findIndex((a) => a.endsWith('backup.mjs')) + 1), {
  string: [
    'target',
    'to-database',
    'to-defaults-file',
    'from-defaults-file',
    'from-database',
    'identity',
    'daily',
    'weekly',
    'now',
  ],
  boolean: ['dry-run', 'json', 'force', 'help'],
  alias: { h: 'help' },
  default: { target: 'twin' },
});
const [command, object] = argv._.map(String);
const root = resolve(import.meta.dirname, '..');
const t0 = Date.now();
const json = argv.json;
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
const say = (...a) => json || echo(...a);
const fail = failer(json);

handleHelp(HELP, command, argv.help, fail);

if (command === 'build') {
  const b = await buildJob(root);
  if (json) echo(JSON.stringify({ ok: true, ...b }));
  else echo(`${b.built ? 'built' : 'up to date'}: ${b.path} (${elapsed()})`);
  process.exit(0);
}

let target;
try {
  target = loadTarget(argv.target, root);
} catch (e) {
  fail(e instanceof TargetError ? e.message : String(e), 2);
}

function count(flag, def) {
  if (argv[flag] === undefined) return def;
  const n = Number(argv[flag]);
  if (!Number.isInteger(n) || n < 0 || n > 1000)
    fail(`--${flag} must be an integer 0..1000 (got "${argv[flag]}")`, 2);
  return n;
}

if (command === 'prune') {
  const policy = {
    daily: count('daily', DEFAULT_RETENTION.daily),
    weekly: count('weekly', DEFAULT_RETENTION.weekly),
  };
  const now = argv.now ? new Date(argv.now) : new Date();
  if (Number.isNaN(now.getTime())) fail(`--now must be an ISO time (got "${argv.now}")`, 2);
  const storage = createStorage({ projectId: target.projectId, gcsEndpoint: target.gcsEndpoint });
  const bucket = storage.bucket(target.bucket);
  say(
    chalk.dim(
      `[${elapsed()}] listing gs://${target.bucket}/${target.env}/ (keep ${policy.daily} daily, ${policy.weekly} weekly)`,
    ),
  );
  try {
    const r = await pruneBackups(
      { env: target.env, bucket: target.bucket },
      bucket,
      now,
      policy,
      argv['dry-run'],
    );
    if (json) echo(JSON.stringify({ ok: true, dryRun: argv['dry-run'], policy, ...r }));
    else {
      for (const o of r.deleted) echo(`${argv['dry-run'] ? 'would delete' : 'deleted'} ${o}`);
      echo(
        `${r.kept.length} kept, ${r.deleted.length} ${argv['dry-run'] ? 'to delete' : 'deleted'} (${elapsed()})`,
      );
    }
    process.exit(0);
  } catch (e) {
    fail(`prune gs://${target.bucket}: ${e.message}`);
  }
}

/** The job's own argv on the VM, as the user it runs as: restore over real data needs root. */
/** An encrypted backup's key goes to the VM's tmpfs for this one command, readable by the job. */
const identityOnVm = `/run/e2m-backup-identity-${process.pid}`;

function jobArgv() {
  const args = [command];
  if (argv.identity) args.push('--identity', identityOnVm);
  if (object) args.push(object);
  if (argv['to-database']) args.push('--to-database', argv['to-database']);
  if (argv['to-defaults-file']) args.push('--to-defaults-file', argv['to-defaults-file']);
  if (argv['from-defaults-file']) args.push('--from-defaults-file', argv['from-defaults-file']);
  if (argv['from-database']) args.push('--from-database', argv['from-database']);
  if (argv.force) args.push('--force');
  if (argv['dry-run']) args.push('--dry-run');
  args.push('--json');
  const asRoot = command === 'restore' && argv.force;
  return ['sudo', '-n', ...(asRoot ? [] : ['-u', vmPaths.user]), vmPaths.binary, ...args];
}

let vm;
try {
  vm = await SshRunner.connect(target);
} catch (e) {
  fail(
    `cannot reach ${target.user}@${target.host}:${target.port} over SSH (${target.inventoryFile}): ${e.message}`,
  );
}

try {
  // Dumping another server is a one-off (the way back from Cloud SQL): the job runs directly, as
  // its user, instead of through the nightly unit, whose command line is fixed.
  if (command === 'run' && !argv['from-defaults-file']) {
    const start = ['sudo', '-n', 'systemctl', 'start', vmPaths.unit];
    if (argv['dry-run']) {
      const r = await vm.run(['sudo', '-n', vmPaths.binary, 'run', '--dry-run', '--json']);
      if (json)
        echo(JSON.stringify({ ok: true, dryRun: true, command: toShell(start), job: JSON.parse(r.stdout) }));
      else echo(`would run on ${vm.where}: ${toShell(start)}\n${JSON.parse(r.stdout).script}`);
      process.exit(0);
    }
    say(chalk.dim(`[${elapsed()}] ${vm.where}: ${toShell(start)} (waits for the dump and upload)`));
    const r = await vm.run(start, { check: false });
    const last = JSON.parse(
      (await vm.run(['sudo', '-n', 'cat', vmPaths.lastRunFile], { check: false })).stdout || '{}',
    );
    const ok = r.code === 0 && last.ok === true;
    if (json) echo(JSON.stringify({ ok, ...last }));
    else if (ok)
      echo(
        `backup ok: gs://${target.bucket}/${last.object} (${(last.bytes / 1e6).toFixed(1)} MB in ${(last.durationMs / 1000).toFixed(1)}s, total ${elapsed()})`,
      );
    else
      echo(
        chalk.red(
          `backup FAILED: ${last.error ?? r.stderr.trim()}\n(journalctl -u ${vmPaths.unit} on the VM has every step)`,
        ),
      );
    process.exit(ok ? 0 : 1);
  }

  say(chalk.dim(`[${elapsed()}] ${vm.where}: ${command}${object ? ` ${object}` : ''}`));
  if (argv.identity) {
    let key;
    try {
      key = fs.readFileSync(argv.identity, 'utf8');
    } catch (e) {
      fail(`--identity ${argv.identity}: ${e.code ?? e.message}`, 2);
    }
    const owner = command === 'restore' && argv.force ? 'root' : vmPaths.user;
    await vm.run(['sudo', '-n', 'install', '-m', '0400', '-o', owner, '/dev/stdin', identityOnVm], {
      input: key,
    });
  }
  const r = await vm
    .run(jobArgv(), { check: false })
    .finally(() =>
      argv.identity ? vm.run(['sudo', '-n', 'rm', '-f', identityOnVm], { check: false }) : undefined,
    );
  const lines = r.stdout.trim().split('\n').filter(Boolean);
  const result = lines.length ? lines[lines.length - 1] : '';
  if (json) echo(result || JSON.stringify({ ok: false, error: r.stderr.trim() }));
  else {
    let value;
    try {
      value = JSON.parse(result);
    } catch {
      value = undefined;
    }
    if (r.code !== 0 && !value) echo(chalk.red(r.stderr.trim() || `exit ${r.code}`));
    else if (command === 'list')
      echo(
        value.length === 0
          ? `no backups in gs://${target.bucket}/${target.env}/`
          : value
              .map(
                (e) =>
                  `${e.complete ? ' ' : '!'} ${e.at}  ${(e.bytes / 1e6).toFixed(1).padStart(8)} MB  ${e.object}`,
              )
              .join('\n'),
      );
    else if (command === 'verify') {
      echo(
        `verify ${value.object}: ${value.ok ? chalk.green('ok') : chalk.red('FAILED')} (restore ${(value.restoreMs / 1000).toFixed(1)}s)`,
      );
      for (const t of value.tables)
        echo(
          `  ${t.ok ? 'ok  ' : chalk.red('FAIL')} ${t.table}: rows ${t.restored?.rows ?? '-'} / ${t.production?.rows ?? '-'}`,
        );
      if (value.error) echo(chalk.red(`  ${value.error}`));
    } else echo(JSON.stringify(value));
    say(chalk.dim(`(${elapsed()})`));
  }
  process.exit(r.code === 0 ? 0 : 1);
} finally {
  await vm.close();
}
