// The growth path's managed data: Cloud SQL (no free tier: the smallest instance is an accepted
// charge) and Memorystore (never expected: the free Redis sidecar does its job).
import type { Rule } from './context.ts';
import { KNOWN, UNEXPECTED } from './types.ts';

export const cloudSql: Rule = (r, ctx) => {
  const st = r.values.settings?.[0] ?? {};
  const hourly = ctx.prices.cloud_sql_instance_hourly[st.tier] as number | undefined;
  const storage = ctx.prices.cloud_sql_storage_gb_month;
  const diskType: string = st.disk_type ?? 'PD_SSD';
  const diskGb: number = st.disk_size ?? 10;
  const perGb = storage[diskType] as number | undefined;
  const src = ctx.cite(ctx.prices.cloud_sql_instance_hourly.source);
  const zonal = (st.availability_type ?? 'ZONAL') === 'ZONAL';
  const monthly = (hourly ?? 0) * ctx.hours * (zonal ? 1 : 2) + diskGb * (perGb ?? 0);
  const what = `Cloud SQL ${st.tier} ${zonal ? 'zonal' : 'regional (HA)'}, ${diskGb} GB ${diskType}: $${hourly}/hour + $${perGb}/GB-month; backups $${storage.backup}/GB-month (usage-based)`;
  if (hourly === undefined) {
    ctx.add(r, UNEXPECTED, 0, `Cloud SQL tier ${st.tier} is not in the price table`);
  } else if (st.tier === 'db-f1-micro' && zonal) {
    ctx.add(r, KNOWN, monthly, what, src);
  } else {
    ctx.add(r, UNEXPECTED, monthly, `${what}: larger than the smallest instance`, src);
  }
};

export const memorystore: Rule = (r, ctx) => {
  const p = ctx.prices.memorystore_basic_gb_hour;
  const gb: number = r.values.memory_size_gb ?? 1;
  const factor = r.values.tier === 'STANDARD_HA' ? 2 : 1;
  ctx.add(
    r,
    UNEXPECTED,
    p.usd * gb * ctx.hours * factor,
    `Memorystore ${r.values.tier ?? 'BASIC'} ${gb} GB at $${p.usd}/GB-hour${factor > 1 ? ' (HA: about double)' : ''}: the free Redis sidecar holds the app's cache as well`,
    ctx.cite(p.source),
  );
};
