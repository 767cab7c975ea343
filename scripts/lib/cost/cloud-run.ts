// The growth path's serverless side: the Cloud Run service and migrate job, the image repository
// and the app's secrets.
import { type Rule, round2 } from './context.ts';
import { SECONDS_PER_MONTH } from './monitoring.ts';
import { FREE_TIER, UNEXPECTED } from './types.ts';

const MIB_PER_GIB = 1024;

/** Cloud Run quantities ("0.75", "1000m"; "512Mi", "1Gi") as vCPUs and MiB. */
export const cpuOf = (q: unknown): number =>
  typeof q === 'string' && q.endsWith('m') ? Number(q.slice(0, -1)) / 1000 : Number(q ?? 1);
export function mibOf(q: unknown): number {
  const m = /^(\d+(?:\.\d+)?)(Mi|Gi|M|G)?$/.exec(String(q ?? '512Mi'));
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  const unit = (m[2] ?? 'Mi') as 'Mi' | 'M' | 'Gi' | 'G';
  return { Mi: n, M: (n * 1e6) / 2 ** 20, Gi: n * MIB_PER_GIB, G: (n * 1e9) / 2 ** 20 }[unit];
}

export const service: Rule = (r, ctx) => {
  const ft = ctx.prices.free_tier;
  const v = r.values;
  const t = v.template?.[0] ?? {};
  const containers: Array<{ resources?: Array<{ limits?: Record<string, unknown>; cpu_idle?: boolean }> }> =
    t.containers ?? [];
  const maxInstances: number | undefined =
    t.scaling?.[0]?.max_instance_count ?? v.scaling?.[0]?.max_instance_count;
  const minInstances: number = t.scaling?.[0]?.min_instance_count ?? 0;
  const limits = containers.map((c) => c.resources?.[0]?.limits ?? {});
  const vcpus = limits.reduce((a, l) => a + cpuOf(l.cpu), 0);
  const mib = limits.reduce((a, l) => a + mibOf(l.memory), 0);
  const requestBased = containers.every((c) => c.resources?.[0]?.cpu_idle !== false);
  const p = ctx.prices.cloud_run_request_based;
  // Busy every second of the month: the most one instance can bill with request-based billing.
  const busySeconds = SECONDS_PER_MONTH * (maxInstances ?? 100);
  const ceiling =
    Math.max(0, vcpus * busySeconds - ft.cloud_run_vcpu_seconds_per_month) * p.vcpu_second_usd +
    Math.max(0, (mib / MIB_PER_GIB) * busySeconds - ft.cloud_run_gib_seconds_per_month) * p.gib_second_usd;
  const shape = `${maxInstances ?? 'unbounded'} instance(s) max, ${vcpus} vCPU, ${mib} MiB`;
  if (
    maxInstances !== undefined &&
    maxInstances <= ft.cloud_run_max_instances &&
    mib <= ft.cloud_run_memory_mib &&
    minInstances === 0 &&
    requestBased
  ) {
    ctx.add(
      r,
      FREE_TIER,
      0,
      `${shape}, CPU only during requests: ${ft.cloud_run_vcpu_seconds_per_month} vCPU-s, ${ft.cloud_run_gib_seconds_per_month} GiB-s and ${ft.cloud_run_requests_per_month / 1e6}M requests free a month, then $${p.vcpu_second_usd}/vCPU-s (usage-based; busy around the clock at most $${round2(ceiling)}/month)`,
    );
    return;
  }
  const why = [
    maxInstances === undefined || maxInstances > ft.cloud_run_max_instances
      ? `max instances ${maxInstances ?? 'unbounded'}`
      : '',
    mib > ft.cloud_run_memory_mib ? `${mib} MiB` : '',
    minInstances > 0 ? `${minInstances} always-on instance(s)` : '',
    requestBased ? '' : 'CPU always allocated (instance-based billing)',
  ]
    .filter(Boolean)
    .join(', ');
  ctx.add(
    r,
    UNEXPECTED,
    0,
    `${shape}: beyond the free-tier shape (${why}); usage-based, busy around the clock about $${round2(ceiling)}/month`,
    ctx.cite(p.source),
  );
};

export const job: Rule = (r, ctx) => {
  const p = ctx.prices.cloud_run_request_based;
  ctx.add(
    r,
    FREE_TIER,
    0,
    `runs once per deploy (migrations): a few vCPU-seconds of the same free allowance, then $${p.vcpu_second_usd}/vCPU-s (usage-based)`,
  );
};

export const secret: Rule = (r, ctx) => {
  const p = ctx.prices.secret_version_month;
  ctx.add(
    r,
    FREE_TIER,
    0,
    `secret (values added out of band): ${ctx.prices.free_tier.secret_manager_active_versions} active versions free a month, then $${p.usd}/version-month`,
  );
};

export const imageRepository: Rule = (r, ctx) => {
  const p = ctx.prices.artifact_registry_gb_month;
  ctx.add(
    r,
    FREE_TIER,
    0,
    `image storage: ${ctx.prices.free_tier.artifact_registry_storage_gb} GB free, then $${p.usd}/GB-month (usage-based; cleanup keeps the recent releases)`,
  );
};
