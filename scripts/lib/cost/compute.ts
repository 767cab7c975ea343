// Compute Engine: the VM and its boot disk, other disks, the external address, the snapshot schedule.
import { type CostContext, type Rule, regionOfZone, round2 } from './context.ts';
import { FREE, FREE_TIER, KNOWN, type PlannedResource, UNEXPECTED } from './types.ts';

// A disk is free while the free-tier regions' 30 GB of pd-standard lasts; the rest is priced.
function disk(
  r: PlannedResource,
  ctx: CostContext,
  label: string,
  type: string,
  sizeGb: number,
  region: string | undefined,
): void {
  const table = ctx.prices.disk_gb_month;
  const perGb = table[type] as number | undefined;
  const src = ctx.cite(table.source);
  const freeGb = ctx.prices.free_tier.pd_standard_gb;
  if (perGb === undefined) {
    ctx.add(r, UNEXPECTED, 0, `${label}: disk type ${type} is not in the price table`);
    return;
  }
  if (type === 'pd-standard' && ctx.inFreeRegion(region)) {
    const free = Math.min(sizeGb, ctx.freeStandardGbLeft);
    ctx.freeStandardGbLeft -= free;
    const paidGb = sizeGb - free;
    if (paidGb === 0) {
      ctx.add(r, FREE_TIER, 0, `${label}: ${sizeGb} GB pd-standard within the ${freeGb} GB free`);
    } else {
      ctx.add(
        r,
        UNEXPECTED,
        paidGb * perGb,
        `${label}: ${paidGb} GB pd-standard beyond the ${freeGb} GB free at $${perGb}/GB-month`,
        src,
      );
    }
    return;
  }
  ctx.add(
    r,
    UNEXPECTED,
    sizeGb * perGb,
    `${label}: ${sizeGb} GB ${type} in ${region} at $${perGb}/GB-month (not free tier)`,
    src,
  );
}

export const instance: Rule = (r, ctx) => {
  const v = r.values;
  const region = regionOfZone(v.zone);
  const sched = v.scheduling?.[0] ?? {};
  const spot = sched.preemptible === true || sched.provisioning_model === 'SPOT';
  const hourly = ctx.prices.machine_hourly[v.machine_type] as number | undefined;
  const src = ctx.cite(ctx.prices.machine_hourly.source);
  if (v.machine_type === 'e2-micro' && ctx.inFreeRegion(region) && !spot && ctx.freeMicrosLeft > 0) {
    ctx.freeMicrosLeft -= 1;
    ctx.add(
      r,
      FREE_TIER,
      0,
      `e2-micro in ${region}: the one free e2-micro (list price $${round2((hourly ?? 0) * ctx.hours)}/month)`,
    );
  } else if (hourly === undefined) {
    ctx.add(r, UNEXPECTED, 0, `machine type ${v.machine_type} is not in the price table`);
  } else {
    const why =
      v.machine_type !== 'e2-micro'
        ? 'not e2-micro'
        : !ctx.inFreeRegion(region)
          ? `${region} is not a free-tier region`
          : spot
            ? 'spot/preemptible VMs are not free tier'
            : 'the free tier covers one e2-micro';
    ctx.add(r, UNEXPECTED, hourly * ctx.hours, `${v.machine_type} in ${region}: ${why}`, src);
  }
  const init = v.boot_disk?.[0]?.initialize_params?.[0] ?? {};
  disk(
    { ...r, address: `${r.address} (boot disk)` },
    ctx,
    'boot disk',
    init.type ?? 'pd-standard',
    init.size ?? 10,
    region,
  );
};

export const standaloneDisk: Rule = (r, ctx) =>
  disk(r, ctx, 'disk', r.values.type ?? 'pd-standard', r.values.size ?? 10, regionOfZone(r.values.zone));

export const address: Rule = (r, ctx) => {
  if ((r.values.address_type ?? 'EXTERNAL') === 'INTERNAL') {
    ctx.add(r, FREE, 0, 'internal address');
    return;
  }
  // No free tier covers an external IPv4 address, in use or not. What the VM sends out through it
  // is usage: named here, not added up.
  const p = ctx.prices.external_ipv4_hourly;
  const egress = ctx.prices.internet_egress_gib;
  ctx.add(
    r,
    KNOWN,
    p.usd * ctx.hours,
    `external IPv4 in use by the VM at $${p.usd}/hour (unattached it costs more; no free tier); internet egress: ${egress.free_gib_per_month} GiB/month free, then $${egress.premium_north_america_usd}/GiB to North America (usage-based)`,
    ctx.cite(p.source),
  );
};

/** Size in GB of the disks a resource policy is attached to, when the plan shows them. */
function attachedDiskGb(ctx: CostContext, policyName: unknown): number | undefined {
  const diskNames = ctx.resources
    .filter(
      (a) => a.type === 'google_compute_disk_resource_policy_attachment' && a.values.name === policyName,
    )
    .map((a) => a.values.disk);
  if (diskNames.length === 0) return undefined;
  let total = 0;
  for (const name of diskNames) {
    // A boot disk created with the VM takes the VM's name.
    const vm = ctx.resources.find((x) => x.type === 'google_compute_instance' && x.values.name === name);
    const d = ctx.resources.find((x) => x.type === 'google_compute_disk' && x.values.name === name);
    const size = vm ? (vm.values.boot_disk?.[0]?.initialize_params?.[0]?.size ?? 10) : d?.values.size;
    if (typeof size !== 'number') return undefined;
    total += size;
  }
  return total;
}

// Snapshot storage left the free tier (the Free Program page lists none for Compute Engine): a
// schedule is priced. Snapshots are incremental and compressed, so the first one holds at most the
// disk's size and later ones only the blocks that changed; the bound below is that first one.
export const snapshotSchedule: Rule = (r, ctx) => {
  const policy = r.values.snapshot_schedule_policy?.[0];
  if (!policy) {
    ctx.add(r, FREE, 0, 'resource policy without snapshots');
    return;
  }
  const locations: string[] = policy.snapshot_properties?.[0]?.storage_locations ?? [];
  const keepDays = policy.retention_policy?.[0]?.max_retention_days;
  const p = ctx.prices.snapshot_gb_month;
  const regional = locations.length > 0 && locations.every((l) => /-/.test(l));
  const perGb = regional ? p.regional_usd : p.multi_regional_usd;
  const gb = attachedDiskGb(ctx, r.values.name);
  const where = locations.join(', ') || 'a multi-region';
  const kept = keepDays ? `, kept ${keepDays} days` : '';
  const size =
    gb === undefined
      ? `no attached disk in this plan: $${perGb}/GB-month (usage-based)`
      : `at most ${gb} GB for the first full snapshot at $${perGb}/GB-month, plus the daily changes (usage-based)`;
  const note = `daily snapshots in ${where}${kept}: ${size}; snapshot storage has no free tier`;
  if (regional) {
    ctx.add(r, KNOWN, (gb ?? 0) * perGb, note, ctx.cite(p.source));
  } else {
    ctx.add(
      r,
      UNEXPECTED,
      (gb ?? 0) * perGb,
      `${note}; multi-regional storage costs more than regional`,
      ctx.cite(p.source),
    );
  }
};
