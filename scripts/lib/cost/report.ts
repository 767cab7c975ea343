// Pure: a Terraform plan (`terraform show -json PLANFILE`) + the price table (terraform/prices.json)
// -> one line per resource that would exist after apply, each either free, inside the free tier,
// a known small charge we accept, or unexpected. Unexpected lines make the report fail.
// Like infracost, without its API key or network: only what the committed table knows.
import * as cloudRun from './cloud-run.ts';
import * as compute from './compute.ts';
import { CostContext, type Rule, round2 } from './context.ts';
import * as databases from './databases.ts';
import * as monitoring from './monitoring.ts';
import * as storage from './storage.ts';
import {
  type CostClass,
  FREE,
  KNOWN,
  type PlannedResource,
  type Prices,
  type Report,
  UNEXPECTED,
} from './types.ts';

export { FREE, FREE_TIER, KNOWN, UNEXPECTED } from './types.ts';

/** The price rule of each resource type the table knows; any other type is unexpected. */
const RULES: Record<string, Rule> = {
  google_compute_instance: compute.instance,
  google_compute_disk: compute.standaloneDisk,
  google_compute_address: compute.address,
  google_compute_resource_policy: compute.snapshotSchedule,
  google_storage_bucket: storage.bucket,
  google_monitoring_uptime_check_config: monitoring.uptimeCheck,
  google_monitoring_alert_policy: monitoring.alertPolicy,
  google_cloud_run_v2_service: cloudRun.service,
  google_cloud_run_v2_job: cloudRun.job,
  google_secret_manager_secret: cloudRun.secret,
  google_artifact_registry_repository: cloudRun.imageRepository,
  google_sql_database_instance: databases.cloudSql,
  google_redis_instance: databases.memorystore,
};

/** Resources that exist after the plan is applied (creates, updates, no-ops; not deletes, not data). */
export function plannedResources(plan: unknown): PlannedResource[] {
  const changes = (plan as { resource_changes?: unknown } | null)?.resource_changes;
  if (!Array.isArray(changes)) {
    throw new Error(
      'not a Terraform plan in JSON: expected resource_changes (use `terraform show -json PLANFILE`)',
    );
  }
  return changes
    .filter((rc) => rc.mode === 'managed')
    .filter((rc) => !(rc.change?.actions?.length === 1 && rc.change.actions[0] === 'delete'))
    .map((rc) => ({ address: rc.address, type: rc.type, values: rc.change?.after ?? {} }));
}

export function costReport(plan: unknown, prices: Prices): Report {
  const resources = plannedResources(plan);
  const ctx = new CostContext(prices, resources);
  const freeTypes = new Set(prices.free_resource_types.types);
  for (const r of resources) {
    const rule = RULES[r.type];
    if (freeTypes.has(r.type)) ctx.add(r, FREE, 0, 'no charge of its own');
    else if (rule) rule(r, ctx);
    else
      ctx.add(
        r,
        UNEXPECTED,
        0,
        'no price rule for this resource type: review its cost and add it to terraform/prices.json',
      );
  }
  const sum = (cls: CostClass) =>
    round2(ctx.lines.filter((l) => l.class === cls).reduce((a, l) => a + l.monthlyUsd, 0));
  return {
    lines: ctx.lines,
    knownMonthlyUsd: sum(KNOWN),
    unexpectedMonthlyUsd: sum(UNEXPECTED),
    ok: !ctx.lines.some((l) => l.class === UNEXPECTED),
  };
}

/** The report as text, one resource a line, then the totals and the verdict. */
export function formatReport(report: Report, currency = 'USD'): string {
  const width = Math.max(8, ...report.lines.map((l) => l.address.length));
  const money = (n: number) => `${n.toFixed(2).padStart(7)} ${currency}/mo`;
  const out = report.lines.map(
    (l) =>
      `${l.address.padEnd(width)}  ${l.class.padEnd(12)}  ${money(l.monthlyUsd)}  ${l.note}${l.source ? ` [${l.source}]` : ''}`,
  );
  out.push('');
  out.push(`known charges:      ${money(report.knownMonthlyUsd)}`);
  out.push(
    `unexpected charges: ${money(report.unexpectedMonthlyUsd)}${report.lines.some((l) => l.class === UNEXPECTED && l.monthlyUsd === 0) ? ' (plus usage-based or unpriced items above)' : ''}`,
  );
  out.push(
    report.ok
      ? 'OK: everything is free, inside the free tier, or a known charge'
      : `FAIL: ${report.lines.filter((l) => l.class === UNEXPECTED).length} resource(s) would cost money unexpectedly`,
  );
  return `${out.join('\n')}\n`;
}
