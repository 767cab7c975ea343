// Cloud Storage: the backups bucket.
import type { Rule } from './context.ts';
import { FREE_TIER, UNEXPECTED } from './types.ts';

export const bucket: Rule = (r, ctx) => {
  const p = ctx.prices.storage_standard_gb_month;
  const freeGb = ctx.prices.free_tier.storage_standard_gb_month;
  const cls = r.values.storage_class ?? 'STANDARD';
  const location = String(r.values.location);
  if (cls === 'STANDARD' && ctx.inFreeRegion(location)) {
    ctx.add(
      r,
      FREE_TIER,
      0,
      `Standard storage in ${location.toLowerCase()}: ${freeGb} GB-month free, then $${p.usd}/GB-month (usage-based)`,
    );
  } else {
    ctx.add(
      r,
      UNEXPECTED,
      0,
      `${cls} storage in ${location}: not covered by the Cloud Storage free tier (usage-based)`,
      ctx.cite(p.source),
    );
  }
};
