// The backup job on this machine, for its integration tests and `npm run bench -- backup`: a
// real MariaDB (backend/test/support/services.ts), fake-gcs-server on loopback, the compiled job
// binary, and a config file pointing it at them.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../../backend/test/support/services.ts';
import { buildJob } from '../../scripts/lib/backup/build.ts';

export const root = resolve(import.meta.dirname, '..', '..');

export interface Gcs {
  endpoint: string;
  stop: () => void;
  /** CPU seconds the emulator has used so far (user + system), from /proc. */
  cpuSeconds: () => number;
}

/** fake-gcs-server (built by .ci/install.d/40-twin.sh) in memory on a free loopback port. */
export async function startGcs(): Promise<Gcs> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    'fake-gcs-server',
    [
      '-scheme',
      'http',
      '-host',
      '127.0.0.1',
      '-port',
      String(port),
      '-backend',
      'memory',
      '-log-level',
      'error',
    ],
    { stdio: 'ignore' },
  );
  const endpoint = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`${endpoint}/storage/v1/b`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { endpoint, stop: () => child.kill(), cpuSeconds: () => cpuSeconds(child.pid) };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error('fake-gcs-server did not answer within 10 s (is it on PATH? .ci/install.d/40-twin.sh)');
}

function cpuSeconds(pid: number | undefined): number {
  // Fields 14 and 15 of /proc/PID/stat, after the command name in parentheses, in clock ticks.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export interface JobEnv {
  dir: string;
  configFile: string;
  defaultsFile: string;
  binary: string;
  /** A query through the job's own client option file; stdout of `mariadb -N -B`. */
  sql: (query: string, database?: string) => string;
  /** Runs the compiled job with this config; returns exit code and output. */
  run: (...args: string[]) => {
    code: number;
    stdout: string;
    stderr: string;
    lines: Record<string, unknown>[];
  };
}

/** A config for the job against `mysqlAdminUrl` and `gcsEndpoint`; extra keys override. */
export async function jobEnv(
  mysqlAdminUrl: string,
  gcsEndpoint: string,
  extra: Record<string, string> = {},
): Promise<JobEnv> {
  const { path: binary } = await buildJob(root);
  const dir = mkdtempSync(join(tmpdir(), 'e2m-backup-'));
  const u = new URL(mysqlAdminUrl);
  const defaultsFile = join(dir, 'my.cnf');
  writeFileSync(
    defaultsFile,
    `[client]\nuser=${u.username}\npassword="${decodeURIComponent(u.password)}"\nhost=${u.hostname}\nport=${u.port}\nprotocol=tcp\n`,
    { mode: 0o600 },
  );
  const configFile = join(dir, 'backup.env');
  const config: Record<string, string> = {
    BACKUP_ENV: 'test',
    BACKUP_BUCKET: 'e2m-test-backups',
    BACKUP_PROJECT_ID: 'e2m-test',
    BACKUP_GCS_ENDPOINT: gcsEndpoint,
    BACKUP_DATABASE: 'app',
    BACKUP_DEFAULTS_FILE: defaultsFile,
    BACKUP_RELEASE_FILE: join(dir, 'state.json'),
    BACKUP_STATE_DIR: dir,
    ...extra,
  };
  writeFileSync(
    configFile,
    Object.entries(config)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
  );
  return {
    dir,
    configFile,
    defaultsFile,
    binary,
    sql: (query, database = 'app') => {
      const r = spawnSync(
        'mariadb',
        [`--defaults-extra-file=${defaultsFile}`, '-N', '-B', database, '-e', query],
        {
          encoding: 'utf8',
        },
      );
      if (r.status !== 0) throw new Error(`mariadb: ${r.stderr}`);
      return r.stdout.trim();
    },
    run: (...args) => {
      const r = spawnSync(binary, [...args, '--config', configFile], { encoding: 'utf8', timeout: 600_000 });
      const lines = r.stdout
        .split('\n')
        .filter((l) => l.startsWith('{') || l.startsWith('['))
        .map((l) => JSON.parse(l));
      return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr, lines };
    },
  };
}
