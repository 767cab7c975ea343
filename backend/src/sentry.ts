import type { Config } from './config.ts';
import type { ErrorReporter } from './middleware/errors.ts';

export type ErrorTracking = { report: ErrorReporter; flush: () => Promise<void> };

const disabled: ErrorTracking = { report: () => {}, flush: async () => {} };

/**
 * Sentry only when SENTRY_DSN is set, tagged with release and environment. Imported lazily so a
 * process without a DSN (tests, the Node comparison bench) never loads the SDK.
 */
export async function initErrorTracking(
  config: Pick<Config, 'SENTRY_DSN' | 'RELEASE' | 'APP_ENV'>,
): Promise<ErrorTracking> {
  if (!config.SENTRY_DSN) return disabled;
  const Sentry = await import('@sentry/bun');
  Sentry.init({
    dsn: config.SENTRY_DSN,
    release: config.RELEASE,
    environment: config.APP_ENV,
    tracesSampleRate: 0,
  });
  return {
    report: (error, context) => Sentry.captureException(error, { extra: context }),
    flush: async () => {
      await Sentry.close(2_000);
    },
  };
}
