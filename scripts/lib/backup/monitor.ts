// Sentry Cron Monitors for the backup job: the monitor's schedule is the systemd timer's own
// (backup_on_calendar, written into the job's env file), so Sentry expects a check-in exactly
// when systemd would start the job, and a night that never starts is an alert too. Pure: the
// check-ins themselves are sent by job.ts.
import type { captureCheckIn } from '@sentry/bun';

export type MonitorConfig = NonNullable<Parameters<typeof captureCheckIn>[1]>;

/** What the env file carries about the timer: its OnCalendar, RandomizedDelaySec, TimeoutStartSec. */
export interface TimerSchedule {
  onCalendar: string;
  randomizedDelay: string;
  timeout: string;
}

const SHORTHANDS: Record<string, string> = {
  minutely: '* * * * *',
  hourly: '0 * * * *',
  daily: '0 0 * * *',
  weekly: '0 0 * * 1',
  monthly: '0 0 1 * *',
};
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** A systemd time span ("15min", "1h 30min", "90", "2s") in seconds. */
export function timespanSeconds(span: string): number {
  const units: Record<string, number> = { '': 1, s: 1, sec: 1, m: 60, min: 60, h: 3600, hr: 3600, d: 86400 };
  const parts = span.trim().split(/\s+/);
  let total = 0;
  for (const p of parts) {
    const m = /^(\d+)([a-z]*)$/.exec(p);
    if (!m || !(m[2] in units)) throw new Error(`"${span}" is not a systemd time span (e.g. 15min, 1h)`);
    total += Number(m[1]) * units[m[2]];
  }
  return total;
}

/** One hour or minute field of OnCalendar (5, 03, 1,31, 0/15, *) as a crontab field. */
function cronField(field: string, max: number, what: string): string {
  if (field === '*') return '*';
  const step = /^(\d+)\/(\d+)$/.exec(field);
  if (step) return `${Number(step[1]) === 0 ? '*' : Number(step[1])}/${Number(step[2])}`;
  const values = field.split(',');
  if (values.every((v) => /^\d{1,2}$/.test(v) && Number(v) <= max)) return values.map(Number).join(',');
  throw new Error(`its ${what} "${field}" has no crontab form`);
}

/** Mon, Mon..Fri, Sat,Sun as a crontab day-of-week field. */
function cronDays(spec: string): string {
  const day = (d: string) => {
    const i = DAYS.indexOf(d.slice(0, 3).toLowerCase());
    if (i < 0) throw new Error(`"${d}" is not a weekday`);
    return i;
  };
  return spec
    .split(',')
    .map((part) => {
      const [from, to] = part.split('..');
      return to === undefined ? String(day(from)) : `${day(from)}-${day(to)}`;
    })
    .join(',');
}

/**
 * OnCalendar ("*-*-* 03:15:00", "Sun *-*-* 04:00", "*:0/1", "daily", with an optional trailing
 * time zone) as a crontab line and its zone. Throws, naming the part, for what crontab cannot
 * say (dates, seconds other than 0): the job then checks in without a schedule.
 */
export function cronOfCalendar(onCalendar: string): { crontab: string; timezone: string } {
  let tokens = onCalendar.trim().split(/\s+/);
  let timezone = 'Etc/UTC';
  const last = tokens.at(-1) ?? '';
  if (tokens.length > 1 && (last === 'UTC' || /^[A-Za-z]+\/[A-Za-z_/+-]+$/.test(last))) {
    timezone = last === 'UTC' ? 'Etc/UTC' : last;
    tokens = tokens.slice(0, -1);
  }
  if (tokens.length === 1 && tokens[0].toLowerCase() in SHORTHANDS)
    return { crontab: SHORTHANDS[tokens[0].toLowerCase()], timezone };
  let dow = '*';
  if (tokens.length > 1 && /^[A-Za-z]/.test(tokens[0])) dow = cronDays(String(tokens.shift()));
  if (tokens.length === 2) {
    if (tokens[0] !== '*-*-*') throw new Error(`its date "${tokens[0]}" has no crontab form (only *-*-*)`);
    tokens = tokens.slice(1);
  }
  if (tokens.length !== 1) throw new Error('expected [WEEKDAYS] [*-*-*] HH:MM[:SS]');
  const [hour, minute, second = '00'] = tokens[0].split(':');
  if (minute === undefined) throw new Error(`its time "${tokens[0]}" has no minutes`);
  if (!/^0?0$/.test(second)) throw new Error(`its seconds "${second}" are not 0 (crontab has minutes)`);
  return {
    crontab: `${cronField(minute, 59, 'minute')} ${cronField(hour, 23, 'hour')} * * ${dow}`,
    timezone,
  };
}

/**
 * The monitor's config: the timer's schedule; a check-in is late only after the timer's random
 * delay plus 5 minutes for start-up, and a run is failed when it outlives the unit's timeout.
 */
export function monitorConfig(t: TimerSchedule): MonitorConfig {
  const { crontab, timezone } = cronOfCalendar(t.onCalendar);
  return {
    schedule: { type: 'crontab', value: crontab },
    timezone,
    checkinMargin: Math.ceil(timespanSeconds(t.randomizedDelay) / 60) + 5,
    maxRuntime: Math.max(1, Math.ceil(timespanSeconds(t.timeout) / 60)),
  };
}

/** The monitors, one per environment and timer, so staging's misses never page for prod. */
export const monitors = (cfg: { env: string; schedule: TimerSchedule; binlogOnCalendar: string }) => ({
  backup: { slug: `e2m-backup-${cfg.env}`, schedule: cfg.schedule },
  // The shipper's unit has a 5-minute timeout and no random delay (ansible/roles/backup).
  binlog: {
    slug: `e2m-binlog-${cfg.env}`,
    schedule: { onCalendar: cfg.binlogOnCalendar, randomizedDelay: '0', timeout: '5min' },
  },
});
