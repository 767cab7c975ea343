import { describe, expect, it } from 'vitest';
import { cronOfCalendar, monitorConfig, timespanSeconds } from './monitor.ts';

describe('cronOfCalendar: the timer schedule as Sentry reads it', () => {
  it.each([
    ['*-*-* 03:15:00', '15 3 * * *'],
    ['03:15', '15 3 * * *'],
    ['Sun *-*-* 04:00:00', '0 4 * * 0'],
    ['Mon..Fri 02:30', '30 2 * * 1-5'],
    ['Sat,Sun *-*-* 01:05:00', '5 1 * * 6,0'],
    ['*:0/1', '*/1 * * * *'],
    ['*-*-* *:0/15:00', '*/15 * * * *'],
    ['*-*-* 0,12:00:00', '0 0,12 * * *'],
    ['daily', '0 0 * * *'],
    ['hourly', '0 * * * *'],
  ])('%s → %s', (calendar, crontab) => {
    expect(cronOfCalendar(calendar)).toEqual({ crontab, timezone: 'Etc/UTC' });
  });

  it('keeps an explicit time zone', () => {
    expect(cronOfCalendar('*-*-* 03:15:00 Europe/Paris')).toEqual({
      crontab: '15 3 * * *',
      timezone: 'Europe/Paris',
    });
    expect(cronOfCalendar('*-*-* 03:15:00 UTC').timezone).toBe('Etc/UTC');
  });

  it.each([
    ['*-*-01 03:00:00', 'its date "*-*-01" has no crontab form'],
    ['*-*-* 03:15:30', 'its seconds "30" are not 0'],
    ['Funday 03:00', '"Funday" is not a weekday'],
    ['*-*-* 25:00', 'its hour "25" has no crontab form'],
    ['3', 'has no minutes'],
  ])('names what crontab cannot say: %s', (calendar, message) => {
    expect(() => cronOfCalendar(calendar)).toThrow(message);
  });
});

describe('monitorConfig', () => {
  it('allows the random delay plus 5 minutes, and fails a run that outlives the unit timeout', () => {
    expect(monitorConfig({ onCalendar: '*-*-* 03:15:00', randomizedDelay: '15min', timeout: '1h' })).toEqual({
      schedule: { type: 'crontab', value: '15 3 * * *' },
      timezone: 'Etc/UTC',
      checkinMargin: 20,
      maxRuntime: 60,
    });
  });

  it('reads systemd time spans', () => {
    expect(timespanSeconds('90')).toBe(90);
    expect(timespanSeconds('1h 30min')).toBe(5400);
    expect(timespanSeconds('2s')).toBe(2);
    expect(() => timespanSeconds('soon')).toThrow('"soon" is not a systemd time span');
  });
});
