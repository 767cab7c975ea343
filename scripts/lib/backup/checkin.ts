// The job's Sentry reports (only when SENTRY_DSN is set; the SDK is loaded only then): a cron
// check-in when a run starts, another when it ends (ok, or error with the exception). With the
// monitor's schedule (monitor.ts) Sentry also alerts on a night that never starts. A monitoring
// problem is logged and never fails the backup.
import type { Log } from './job.ts';
import { monitorConfig, type TimerSchedule } from './monitor.ts';
import type { BackupConfig } from './plan.ts';

/** The end of a run, as Sentry hears it: `finish()` for ok, `finish(error)` for a failure. */
export interface CheckIn {
  finish(error?: Error): Promise<void>;
}

const none: CheckIn = { finish: async () => {} };

/** `monitor`: the slug and the schedule of the timer that starts this command. */
export async function startCheckIn(
  cfg: BackupConfig,
  log: Log,
  monitor: { slug: string; schedule: TimerSchedule },
): Promise<CheckIn> {
  if (!cfg.sentryDsn) return none;
  const Sentry = await import('@sentry/bun');
  Sentry.init({ dsn: cfg.sentryDsn, environment: cfg.env, defaultIntegrations: false });
  const { slug, schedule } = monitor;
  let config: ReturnType<typeof monitorConfig> | undefined;
  try {
    config = monitorConfig(schedule);
  } catch (e) {
    // Sentry keeps the monitor's last schedule; say why this one was not sent.
    log('monitor-schedule-skipped', { onCalendar: schedule.onCalendar, error: (e as Error).message });
  }
  const started = Date.now();
  const checkInId = Sentry.captureCheckIn({ monitorSlug: slug, status: 'in_progress' }, config);
  // Sent now: a run killed by OOM or SIGKILL then shows in Sentry as started and timed out.
  await Sentry.flush(5000);
  return {
    async finish(error) {
      if (error) Sentry.captureException(error, { tags: { job: 'e2m-backup' } });
      Sentry.captureCheckIn({
        checkInId,
        monitorSlug: slug,
        status: error ? 'error' : 'ok',
        duration: (Date.now() - started) / 1000,
      });
      if (!(await Sentry.flush(5000))) throw new Error('Sentry did not accept the check-in within 5 s');
    },
  };
}
