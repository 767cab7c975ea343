// Pure: the operator's commands on the VM for `npm run backup`, as exact argv. The job itself
// (scripts/backup-job.mjs, compiled) runs as its own user; restoring over real data runs it as
// root, which alone reads the restore user's credentials.
import { readState } from '../deploy/commands.ts';
import { vmPaths } from './plan.ts';

export { killSwitchCommand } from '../incident/probes.ts';

type Argv = string[];

/** What the nightly timer starts; `systemctl start` waits for the oneshot unit to finish. */
export const startUnit = (): Argv => ['sudo', '-n', 'systemctl', 'start', vmPaths.unit];

/** The job's own dry run: the script it would run. */
export const jobDryRun = (): Argv => ['sudo', '-n', vmPaths.binary, 'run', '--dry-run', '--json'];

/** The serving colour (deploy's state.json, the deploy user's: through sudo). */
export const readServing = (): Argv => ['sudo', '-n', ...readState()];

/** The last run's result, which the unit writes. */
export const readLastRun = (): Argv => ['sudo', '-n', 'cat', vmPaths.lastRunFile];

/** An encrypted backup's key goes to the VM's tmpfs for this one command, readable by the job. */
export const identityPath = (pid: number) => `/run/e2m-backup-identity-${pid}`;
export const installIdentity = (path: string, owner: string): Argv => [
  'sudo',
  '-n',
  'install',
  '-m',
  '0400',
  '-o',
  owner,
  '/dev/stdin',
  path,
];
export const removeIdentity = (path: string): Argv => ['sudo', '-n', 'rm', '-f', path];

export interface JobOptions {
  object?: string;
  /** The newest trusted backup created at or before this ISO time (instead of OBJECT). */
  before?: string;
  /** Point in time: a base dump plus the binlogs up to this time (the job parses it). */
  toTime?: string;
  identity?: string;
  toDatabase?: string;
  toDefaultsFile?: string;
  fromDefaultsFile?: string;
  fromDatabase?: string;
  force?: boolean;
  dryRun?: boolean;
}

/** Restore with --force may write over production, and --to-time replays binlogs (BINLOG
 * REPLAY writes past table grants): the job runs as root, to read the restore user's option
 * file (root's only); the SQL then runs as that user (job.ts, binlog.ts). */
export const runsAsRoot = (command: string, o: JobOptions) =>
  command === 'restore' && (o.force === true || o.toTime !== undefined);

/** The job's own command line on the VM; `identity` is the key's path there. */
export function jobArgv(command: string, o: JobOptions): Argv {
  const args = [command];
  if (o.identity) args.push('--identity', o.identity);
  if (o.object) args.push(o.object);
  if (o.before) args.push('--before', o.before);
  if (o.toTime) args.push('--to-time', o.toTime);
  if (o.toDatabase) args.push('--to-database', o.toDatabase);
  if (o.toDefaultsFile) args.push('--to-defaults-file', o.toDefaultsFile);
  if (o.fromDefaultsFile) args.push('--from-defaults-file', o.fromDefaultsFile);
  if (o.fromDatabase) args.push('--from-database', o.fromDatabase);
  if (o.force) args.push('--force');
  if (o.dryRun) args.push('--dry-run');
  args.push('--json');
  return ['sudo', '-n', ...(runsAsRoot(command, o) ? [] : ['-u', vmPaths.user]), vmPaths.binary, ...args];
}
