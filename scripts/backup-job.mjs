#!/usr/bin/env zx
// The nightly backup job, on the VM. Setup compiles this file with Bun into one binary
// (/usr/local/lib/e2-micro/e2m-backup) so the VM needs no Node or Bun; e2m-backup.timer runs
// `e2m-backup run` as the unprivileged user e2m-backup. The operator drives it through
// scripts/backup.mjs over SSH. Journal lines are JSON; exit 0 ok, 1 failed, 2 usage.
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  acquireLock,
  findBackup,
  listBackups,
  loadConfig,
  memory,
  reportFailure,
  restoreBackup,
  runBackup,
  verifyBackup,
} from './lib/backup/job.ts';
import { assertDatabaseName, dumpScript, objectName, vmPaths } from './lib/backup/plan.ts';

const HELP = `Usage: e2m-backup <command> [options]      (on the VM; from your machine: npm run backup)

Commands:
  run                    dump the database (one consistent snapshot) | zstd, streamed into a
                         create-only resumable upload to the bucket, then its manifest
      --from-defaults-file F dump another server instead (a client option file: host, user,
                             password), e.g. Cloud SQL on the way back from the growth path
      --from-database NAME   with it: the database there (default: BACKUP_DATABASE)
  list                   the backups of this environment, newest first; incomplete ones marked
  restore [OBJECT]       restore OBJECT (default: the newest complete one) into a scratch
                         database (default e2m_scratch_restore)
      --to-database NAME     restore into NAME; anything but e2m_scratch_* needs --force
      --to-defaults-file F   another server (a MariaDB client option file: host, user, password)
      --force                allow replacing a real database (the object is checked first)
      --identity FILE        the age private key, for a backup encrypted to BACKUP_AGE_RECIPIENTS
  verify [OBJECT]        the drill: restore into e2m_scratch_verify, compare row counts and
                         CHECKSUM TABLE of every table with production; exit 1 on a mismatch
                         (--identity FILE for an encrypted backup)

Options: --config FILE (default ${vmPaths.configFile}), --json, --dry-run, -h/--help`;

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    config: { type: 'string', default: vmPaths.configFile },
    json: { type: 'boolean', default: false },
    'dry-run': { type: 'boolean', default: false },
    'to-database': { type: 'string' },
    'to-defaults-file': { type: 'string' },
    'from-defaults-file': { type: 'string' },
    identity: { type: 'string' },
    'from-database': { type: 'string' },
    force: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
const [command, object] = positionals;
if (opts.help || !command) {
  console.log(HELP);
  process.exit(opts.help ? 0 : 2);
}

/** One JSON line per event: the journal keeps them (journalctl -u e2m-backup -o cat). */
const log = (event, fields = {}) =>
  console.log(JSON.stringify({ job: 'e2m-backup', event, time: new Date().toISOString(), ...fields }));
const out = (value, text) => console.log(opts.json ? JSON.stringify(value) : text);
const mb = (b) => `${(b / 1e6).toFixed(1)} MB`;

let cfg;
try {
  cfg = loadConfig(resolve(opts.config));
  // `sudo -u e2m-backup` keeps the caller's working directory, which this user may not enter;
  // child processes would then fail to start (EACCES). Nothing here uses relative paths.
  process.chdir('/');
} catch (e) {
  console.error(`e2m-backup: ${e.message}`);
  process.exit(2);
}

const commands = {
  async run() {
    const now = new Date();
    if (opts['from-defaults-file']) cfg = { ...cfg, defaultsFile: resolve(opts['from-defaults-file']) };
    if (opts['from-database']) {
      assertDatabaseName(opts['from-database'], '--from-database');
      cfg = { ...cfg, database: opts['from-database'] };
    }
    if (opts['dry-run']) {
      out(
        { object: objectName(cfg.env, now, '<release>'), script: dumpScript(cfg) },
        `would upload gs://${cfg.bucket}/${objectName(cfg.env, now, '<release>')} from:\n  ${dumpScript(cfg)}`,
      );
      return 0;
    }
    const writeLast = (value) =>
      writeFileSync(
        join(cfg.stateDir, 'last.json'),
        `${JSON.stringify({ ...value, finishedAt: new Date().toISOString() })}\n`,
      );
    const release = acquireLock(join(cfg.stateDir, 'lock'));
    // systemd stop or a timeout sends SIGTERM: record the failure, leave no lock, exit.
    process.once('SIGTERM', () => {
      writeLast({ ok: false, error: 'killed by SIGTERM' });
      log('failed', { error: 'killed by SIGTERM' });
      release();
      process.exit(143);
    });
    try {
      const r = await runBackup(cfg, now, log);
      writeLast({ ok: true, object: r.object, bytes: r.bytes, durationMs: r.durationMs });
      log('done', { ...r });
      return 0;
    } catch (e) {
      writeLast({ ok: false, error: e.message });
      log('failed', { error: e.message, ...memory() });
      await reportFailure(cfg, e).catch((err) => log('sentry-failed', { error: err.message }));
      return 1;
    } finally {
      release();
    }
  },

  async list() {
    const entries = await listBackups(cfg);
    out(
      entries.map(({ manifest, ...e }) => ({ ...e, at: e.at.toISOString(), sha256: manifest?.sha256 })),
      entries.length === 0
        ? `no backups under gs://${cfg.bucket}/${cfg.env}/`
        : entries
            .map(
              (e) =>
                `${e.complete ? ' ' : '!'} ${e.at.toISOString()}  ${mb(e.bytes).padStart(9)}  ${e.object}`,
            )
            .join('\n') + (entries.some((e) => !e.complete) ? '\n(! = incomplete: no manifest)' : ''),
    );
    return 0;
  },

  async restore() {
    const entry = await findBackup(cfg, object);
    const target = {
      toDatabase: opts['to-database'],
      force: opts.force,
      toDefaultsFile: opts['to-defaults-file'],
      identityFile: opts.identity && resolve(opts.identity),
    };
    if (opts['dry-run']) {
      out(
        { object: entry.object, ...target },
        `would restore ${entry.object} into ${target.toDatabase ?? 'e2m_scratch_restore'}`,
      );
      return 0;
    }
    const r = await restoreBackup(cfg, entry, target, log);
    out(
      { object: entry.object, ...r },
      `restored ${entry.object} into ${r.database} in ${(r.durationMs / 1000).toFixed(1)}s`,
    );
    return 0;
  },

  async verify() {
    const entry = await findBackup(cfg, object);
    if (opts['dry-run']) {
      out(
        { object: entry.object },
        `would restore ${entry.object} into e2m_scratch_verify and compare with ${cfg.database}`,
      );
      return 0;
    }
    const r = await verifyBackup(cfg, entry, log, opts.identity && resolve(opts.identity));
    const lines = r.tables.map(
      (t) =>
        `${t.ok ? 'ok  ' : 'FAIL'} ${t.table}: rows ${t.restored?.rows ?? '-'}/${t.production?.rows ?? '-'}, checksum ${t.restored?.checksum ?? '-'}/${t.production?.checksum ?? '-'}`,
    );
    out(
      r,
      [
        `verify ${r.object}: ${r.ok ? 'ok' : 'FAILED'} (restore ${(r.restoreMs / 1000).toFixed(1)}s)`,
        ...lines,
        r.error ?? '',
      ]
        .filter(Boolean)
        .join('\n'),
    );
    return r.ok ? 0 : 1;
  },
};

if (!(command in commands)) {
  console.error(`e2m-backup: unknown command ${command}\n\n${HELP}`);
  process.exit(2);
}
try {
  process.exit(await commands[command]());
} catch (e) {
  console.error(`e2m-backup ${command}: ${e.message}`);
  process.exit(1);
}
