// Cloud Monitoring: the uptime check (free allowance) and the alerting policy (charged per condition).
import type { Rule } from './context.ts';
import { FREE_TIER, KNOWN, UNEXPECTED } from './types.ts';

// Uptime checks run from every checker region unless selected_regions narrows them.
const DEFAULT_UPTIME_REGIONS = 6;
export const SECONDS_PER_MONTH = 30 * 24 * 3600;
const durationSeconds = (d: unknown): number | undefined =>
  typeof d === 'string' && /^\d+s$/.test(d) ? Number(d.slice(0, -1)) : undefined;

export const uptimeCheck: Rule = (r, ctx) => {
  const free = ctx.prices.free_tier.uptime_check_executions_per_month;
  const period = durationSeconds(r.values.period ?? '60s');
  const regions = r.values.selected_regions?.length || DEFAULT_UPTIME_REGIONS;
  const executions = period ? Math.ceil(SECONDS_PER_MONTH / period) * regions : Number.POSITIVE_INFINITY;
  if (executions <= free) {
    ctx.add(r, FREE_TIER, 0, `about ${executions} checks/month, within ${free} free`);
  } else {
    ctx.add(
      r,
      UNEXPECTED,
      0,
      `about ${executions} checks/month, beyond the free ${free}`,
      ctx.cite('monitoring'),
    );
  }
};

// Each condition is billed monthly; the time series it returns are billed per million and come to
// cents for one series (terraform/README.md), so the line names them without adding them up.
export const alertPolicy: Rule = (r, ctx) => {
  const p = ctx.prices.alert_condition_month;
  const n = r.values.conditions?.length ?? 1;
  ctx.add(
    r,
    KNOWN,
    n * p.usd,
    `${n} alert condition(s) at $${p.usd}/condition-month, plus $${p.million_time_series_usd} per million time series returned (usage-based)`,
    ctx.cite(p.source),
  );
};
