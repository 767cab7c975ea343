// Pure: `incident logs` arguments -> the one command that prints (or follows) them on the VM.
import type { Argv } from '../deploy/commands.ts';
import { containerName } from '../deploy/layout.ts';
import type { ActiveState } from '../deploy/state.ts';
import { UNITS } from './plans.ts';
import { sudo } from './probes.ts';

export const LOG_SOURCES = ['app', 'proxy', 'db', 'redis', 'system'] as const;
export type LogSource = (typeof LOG_SOURCES)[number];

export interface LogArgs {
  source: LogSource;
  /** A duration (30s, 10m, 2h, 1d) or a timestamp journalctl and docker both read (2026-11-23T04:00:00Z). */
  since?: string;
  follow?: boolean;
  grep?: string;
  /** Lines from the end when no --since is given. */
  lines?: number;
  active?: ActiveState;
}

export class LogArgsError extends Error {}

const DURATION = /^(\d+)(s|m|h|d)$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?Z?)?$/;

/** One --since spelled for journalctl ("-10min") and for docker logs ("10m"). */
export function sinceFor(since: string): { journal: string; docker: string } {
  const d = DURATION.exec(since);
  if (d) {
    const n = Number(d[1]);
    const unit = d[2];
    return {
      journal: `-${n}${unit === 'm' ? 'min' : unit}`,
      docker: unit === 'd' ? `${n * 24}h` : `${n}${unit}`,
    };
  }
  if (TIMESTAMP.test(since)) return { journal: since.replace('T', ' ').replace('Z', ''), docker: since };
  throw new LogArgsError(
    `--since must be a duration like 30s, 10m, 2h, 1d or a date like 2026-11-23T04:00:00 (got "${since}")`,
  );
}

export function logsCommand(a: LogArgs): Argv {
  const lines = String(a.lines ?? 200);
  const since = a.since === undefined ? undefined : sinceFor(a.since);
  let base: Argv;
  if (a.source === 'app') {
    if (!a.active) throw new LogArgsError('nothing is deployed: no app container to read logs from');
    base = sudo([
      'docker',
      'logs',
      '--timestamps',
      ...(since ? ['--since', since.docker] : ['--tail', lines]),
      ...(a.follow ? ['--follow'] : []),
      containerName(a.active.colour),
    ]);
  } else {
    base = sudo([
      'journalctl',
      '--no-pager',
      '--output',
      'short-iso',
      ...(a.source === 'system' ? [] : ['--unit', UNITS[a.source]]),
      ...(since ? ['--since', since.journal] : ['--lines', lines]),
      ...(a.follow ? ['--follow'] : []),
    ]);
  }
  if (a.grep === undefined) return base;
  // docker logs writes the app's stderr to stderr: merge before filtering. Line-buffered so
  // --follow shows each match as it comes.
  return ['sh', '-c', 'p=$1; shift; "$@" 2>&1 | grep --line-buffered -e "$p"', 'sh', a.grep, ...base];
}
