import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { costReport } from './report.ts';
import type { Prices } from './types.ts';

const prices: Prices = JSON.parse(
  readFileSync(new URL('../../../terraform/prices.json', import.meta.url), 'utf8'),
);
const plan = (type: string, after: Record<string, unknown>) => ({
  resource_changes: [
    { address: `${type}.main`, mode: 'managed', type, change: { actions: ['create'], after } },
  ],
});

describe('monitoring', () => {
  it('charges each alert condition and names the per-series charge it does not add up', () => {
    const r = costReport(
      plan('google_monitoring_alert_policy', { conditions: [{ display_name: 'a' }, { display_name: 'b' }] }),
      prices,
    );
    expect(r.lines[0]).toMatchObject({ class: 'known-charge', monthlyUsd: 3 });
    expect(r.lines[0].note).toMatch(/\$0\.35 per million time series/);
    expect(r.lines[0].source).toMatch(/Manage alerting costs/);
  });

  it('keeps a 5-minute uptime check from the default regions inside the free executions', () => {
    const r = costReport(plan('google_monitoring_uptime_check_config', { period: '300s' }), prices);
    expect(r.lines[0]).toMatchObject({ class: 'free-tier', monthlyUsd: 0 });
    expect(r.lines[0].note).toMatch(/about 51840 checks\/month/);
  });
});
