// Pure: a Terraform plan (`terraform show -json PLANFILE`) + the price table (terraform/prices.json)
// -> one line per resource that would exist after apply, each either free, inside the free tier,
// a known small charge we accept, or unexpected. Unexpected lines make the report fail.
// Like infracost, without its API key or network: only what the committed table knows.

/** Resource classes, in report order. */
export const FREE = 'free';
export const FREE_TIER = 'free-tier';
export const KNOWN = 'known-charge';
export const UNEXPECTED = 'unexpected';

// Uptime checks run from every checker region unless selected_regions narrows them.
const DEFAULT_UPTIME_REGIONS = 6;
const SECONDS_PER_MONTH = 30 * 24 * 3600;

const MIB_PER_GIB = 1024;

/** Cloud Run quantities ("0.75", "1000m"; "512Mi", "1Gi") as vCPUs and MiB. */
const cpuOf = (q) =>
  typeof q === 'string' && q.endsWith('m') ? Number(q.slice(0, -1)) / 1000 : Number(q ?? 1);
function mibOf(q) {
  const m = /^(\d+(?:\.\d+)?)(Mi|Gi|M|G)?$/.exec(String(q ?? '512Mi'));
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  return { Mi: n, M: (n * 1e6) / 2 ** 20, Gi: n * MIB_PER_GIB, G: (n * 1e9) / 2 ** 20 }[m[2] ?? 'Mi'] ?? n;
}

const round2 = (n) => Math.round(n * 100) / 100;
const regionOfZone = (zone) => (typeof zone === 'string' ? zone.replace(/-[a-z]$/, '') : undefined);
const durationSeconds = (d) =>
  typeof d === 'string' && /^\d+s$/.test(d) ? Number(d.slice(0, -1)) : undefined;

/** Resources that exist after the plan is applied (creates, updates, no-ops; not deletes, not data). */
export function plannedResources(plan) {
  if (!plan || typeof plan !== 'object' || !Array.isArray(plan.resource_changes)) {
    throw new Error(
      'not a Terraform plan in JSON: expected resource_changes (use `terraform show -json PLANFILE`)',
    );
  }
  return plan.resource_changes
    .filter((rc) => rc.mode === 'managed')
    .filter((rc) => !(rc.change?.actions?.length === 1 && rc.change.actions[0] === 'delete'))
    .map((rc) => ({ address: rc.address, type: rc.type, values: rc.change?.after ?? {} }));
}

function cite(prices, key) {
  const s = prices.sources?.[key];
  return s ? `${s.page}, ${s.recorded}` : key;
}

/**
 * @param {object} plan parsed `terraform show -json` of a plan
 * @param {object} prices parsed terraform/prices.json
 * @returns {{lines: Array<{address,type,class,monthlyUsd,note,source?}>, knownMonthlyUsd: number, unexpectedMonthlyUsd: number, ok: boolean}}
 */
export function costReport(plan, prices) {
  const ft = prices.free_tier;
  const hours = prices.hours_per_month;
  const freeTypes = new Set(prices.free_resource_types.types);
  const inFreeRegion = (region) => ft.regions.includes(String(region ?? '').toLowerCase());
  let freeMicrosLeft = ft.e2_micro_instances;
  let freeStandardGbLeft = ft.pd_standard_gb;
  const lines = [];
  const add = (r, cls, monthlyUsd, note, source) =>
    lines.push({
      address: r.address,
      type: r.type,
      class: cls,
      monthlyUsd: round2(monthlyUsd),
      note,
      ...(source ? { source } : {}),
    });

  // A disk is free while the free-tier regions' 30 GB of pd-standard lasts; the rest is priced.
  const disk = (r, label, type, sizeGb, region) => {
    const perGb = prices.disk_gb_month[type];
    const src = cite(prices, prices.disk_gb_month.source);
    if (perGb === undefined)
      return add(r, UNEXPECTED, 0, `${label}: disk type ${type} is not in the price table`);
    if (type === 'pd-standard' && inFreeRegion(region)) {
      const free = Math.min(sizeGb, freeStandardGbLeft);
      freeStandardGbLeft -= free;
      const paidGb = sizeGb - free;
      if (paidGb === 0)
        return add(
          r,
          FREE_TIER,
          0,
          `${label}: ${sizeGb} GB pd-standard within the ${ft.pd_standard_gb} GB free`,
        );
      return add(
        r,
        UNEXPECTED,
        paidGb * perGb,
        `${label}: ${paidGb} GB pd-standard beyond the ${ft.pd_standard_gb} GB free at $${perGb}/GB-month`,
        src,
      );
    }
    return add(
      r,
      UNEXPECTED,
      sizeGb * perGb,
      `${label}: ${sizeGb} GB ${type} in ${region} at $${perGb}/GB-month (not free tier)`,
      src,
    );
  };

  for (const r of plannedResources(plan)) {
    const v = r.values;
    if (freeTypes.has(r.type)) {
      add(r, FREE, 0, 'no charge of its own');
      continue;
    }
    switch (r.type) {
      case 'google_compute_instance': {
        const region = regionOfZone(v.zone);
        const sched = v.scheduling?.[0] ?? {};
        const spot = sched.preemptible === true || sched.provisioning_model === 'SPOT';
        const hourly = prices.machine_hourly[v.machine_type];
        const src = cite(prices, prices.machine_hourly.source);
        if (v.machine_type === 'e2-micro' && inFreeRegion(region) && !spot && freeMicrosLeft > 0) {
          freeMicrosLeft -= 1;
          add(
            r,
            FREE_TIER,
            0,
            `e2-micro in ${region}: the one free e2-micro (list price $${round2(hourly * hours)}/month)`,
          );
        } else if (hourly === undefined) {
          add(r, UNEXPECTED, 0, `machine type ${v.machine_type} is not in the price table`);
        } else {
          const why =
            v.machine_type !== 'e2-micro'
              ? 'not e2-micro'
              : !inFreeRegion(region)
                ? `${region} is not a free-tier region`
                : spot
                  ? 'spot/preemptible VMs are not free tier'
                  : 'the free tier covers one e2-micro';
          add(r, UNEXPECTED, hourly * hours, `${v.machine_type} in ${region}: ${why}`, src);
        }
        const init = v.boot_disk?.[0]?.initialize_params?.[0] ?? {};
        disk(
          { ...r, address: `${r.address} (boot disk)` },
          'boot disk',
          init.type ?? 'pd-standard',
          init.size ?? 10,
          region,
        );
        break;
      }
      case 'google_compute_disk':
        disk(r, 'disk', v.type ?? 'pd-standard', v.size ?? 10, regionOfZone(v.zone));
        break;
      case 'google_compute_address': {
        if ((v.address_type ?? 'EXTERNAL') === 'INTERNAL') {
          add(r, FREE, 0, 'internal address');
        } else {
          const p = prices.external_ipv4_hourly;
          add(
            r,
            KNOWN,
            p.usd * hours,
            `external IPv4 in use by the VM at $${p.usd}/hour (unattached it costs more)`,
            cite(prices, p.source),
          );
        }
        break;
      }
      case 'google_compute_resource_policy': {
        const props = v.snapshot_schedule_policy?.[0]?.snapshot_properties?.[0] ?? {};
        const locations = props.storage_locations ?? [];
        const p = prices.snapshot_gb_month;
        if (!v.snapshot_schedule_policy?.length) {
          add(r, FREE, 0, 'resource policy without snapshots');
        } else if (locations.length > 0 && locations.every(inFreeRegion)) {
          add(
            r,
            FREE_TIER,
            0,
            `snapshots in ${locations.join(', ')}: ${ft.snapshot_gb_month} GB-month free, then $${p.usd}/GB-month (usage-based)`,
          );
        } else {
          add(
            r,
            UNEXPECTED,
            0,
            `snapshots stored in ${locations.join(', ') || 'a multi-region'}: not covered by the free snapshot storage ($${p.usd}/GB-month and up, usage-based)`,
            cite(prices, p.source),
          );
        }
        break;
      }
      case 'google_storage_bucket': {
        const p = prices.storage_standard_gb_month;
        const cls = v.storage_class ?? 'STANDARD';
        if (cls === 'STANDARD' && inFreeRegion(v.location)) {
          add(
            r,
            FREE_TIER,
            0,
            `Standard storage in ${String(v.location).toLowerCase()}: ${ft.storage_standard_gb_month} GB-month free, then $${p.usd}/GB-month (usage-based)`,
          );
        } else {
          add(
            r,
            UNEXPECTED,
            0,
            `${cls} storage in ${v.location}: not covered by the Cloud Storage free tier (usage-based)`,
            cite(prices, p.source),
          );
        }
        break;
      }
      case 'google_monitoring_uptime_check_config': {
        const period = durationSeconds(v.period ?? '60s');
        const regions = v.selected_regions?.length || DEFAULT_UPTIME_REGIONS;
        const executions = period
          ? Math.ceil(SECONDS_PER_MONTH / period) * regions
          : Number.POSITIVE_INFINITY;
        if (executions <= ft.uptime_check_executions_per_month) {
          add(
            r,
            FREE_TIER,
            0,
            `about ${executions} checks/month, within ${ft.uptime_check_executions_per_month} free`,
          );
        } else {
          add(
            r,
            UNEXPECTED,
            0,
            `about ${executions} checks/month, beyond the free ${ft.uptime_check_executions_per_month}`,
            cite(prices, 'monitoring'),
          );
        }
        break;
      }
      case 'google_monitoring_alert_policy': {
        const p = prices.alert_condition_month;
        const n = v.conditions?.length ?? 1;
        add(
          r,
          KNOWN,
          n * p.usd,
          `${n} alert condition(s) at $${p.usd}/condition-month`,
          cite(prices, p.source),
        );
        break;
      }
      case 'google_cloud_run_v2_service': {
        const t = v.template?.[0] ?? {};
        const containers = t.containers ?? [];
        const maxInstances = t.scaling?.[0]?.max_instance_count ?? v.scaling?.[0]?.max_instance_count;
        const minInstances = t.scaling?.[0]?.min_instance_count ?? 0;
        const limits = containers.map((c) => c.resources?.[0]?.limits ?? {});
        const vcpus = limits.reduce((a, l) => a + cpuOf(l.cpu), 0);
        const mib = limits.reduce((a, l) => a + mibOf(l.memory), 0);
        const requestBased = containers.every((c) => c.resources?.[0]?.cpu_idle !== false);
        const p = prices.cloud_run_request_based;
        // Busy every second of the month: the most one instance can bill with request-based billing.
        const busySeconds = SECONDS_PER_MONTH * (maxInstances ?? 100);
        const ceiling =
          Math.max(0, vcpus * busySeconds - ft.cloud_run_vcpu_seconds_per_month) * p.vcpu_second_usd +
          Math.max(0, (mib / MIB_PER_GIB) * busySeconds - ft.cloud_run_gib_seconds_per_month) *
            p.gib_second_usd;
        const shape = `${maxInstances ?? 'unbounded'} instance(s) max, ${vcpus} vCPU, ${mib} MiB`;
        if (
          maxInstances !== undefined &&
          maxInstances <= ft.cloud_run_max_instances &&
          mib <= ft.cloud_run_memory_mib &&
          minInstances === 0 &&
          requestBased
        ) {
          add(
            r,
            FREE_TIER,
            0,
            `${shape}, CPU only during requests: ${ft.cloud_run_vcpu_seconds_per_month} vCPU-s, ${ft.cloud_run_gib_seconds_per_month} GiB-s and ${ft.cloud_run_requests_per_month / 1e6}M requests free a month, then $${p.vcpu_second_usd}/vCPU-s (usage-based; busy around the clock at most $${round2(ceiling)}/month)`,
          );
        } else {
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
          add(
            r,
            UNEXPECTED,
            0,
            `${shape}: beyond the free-tier shape (${why}); usage-based, busy around the clock about $${round2(ceiling)}/month`,
            cite(prices, p.source),
          );
        }
        break;
      }
      case 'google_cloud_run_v2_job': {
        const p = prices.cloud_run_request_based;
        add(
          r,
          FREE_TIER,
          0,
          `runs once per deploy (migrations): a few vCPU-seconds of the same free allowance, then $${p.vcpu_second_usd}/vCPU-s (usage-based)`,
        );
        break;
      }
      case 'google_sql_database_instance': {
        const st = v.settings?.[0] ?? {};
        const hourly = prices.cloud_sql_instance_hourly[st.tier];
        const storage = prices.cloud_sql_storage_gb_month;
        const diskType = st.disk_type ?? 'PD_SSD';
        const diskGb = st.disk_size ?? 10;
        const src = cite(prices, prices.cloud_sql_instance_hourly.source);
        const zonal = (st.availability_type ?? 'ZONAL') === 'ZONAL';
        const monthly = (hourly ?? 0) * hours * (zonal ? 1 : 2) + diskGb * (storage[diskType] ?? 0);
        const what = `Cloud SQL ${st.tier} ${zonal ? 'zonal' : 'regional (HA)'}, ${diskGb} GB ${diskType}: $${hourly}/hour + $${storage[diskType]}/GB-month; backups $${storage.backup}/GB-month (usage-based)`;
        if (hourly === undefined) {
          add(r, UNEXPECTED, 0, `Cloud SQL tier ${st.tier} is not in the price table`);
        } else if (st.tier === 'db-f1-micro' && zonal) {
          // The growth path's accepted cost: Cloud SQL has no free tier; this is its smallest instance.
          add(r, KNOWN, monthly, what, src);
        } else {
          add(r, UNEXPECTED, monthly, `${what}: larger than the smallest instance`, src);
        }
        break;
      }
      case 'google_redis_instance': {
        const p = prices.memorystore_basic_gb_hour;
        const gb = v.memory_size_gb ?? 1;
        const factor = v.tier === 'STANDARD_HA' ? 2 : 1;
        add(
          r,
          UNEXPECTED,
          p.usd * gb * hours * factor,
          `Memorystore ${v.tier ?? 'BASIC'} ${gb} GB at $${p.usd}/GB-hour${factor > 1 ? ' (HA: about double)' : ''}: the free Redis sidecar holds the app's cache as well`,
          cite(prices, p.source),
        );
        break;
      }
      case 'google_secret_manager_secret': {
        const p = prices.secret_version_month;
        add(
          r,
          FREE_TIER,
          0,
          `secret (values added out of band): ${ft.secret_manager_active_versions} active versions free a month, then $${p.usd}/version-month`,
        );
        break;
      }
      case 'google_artifact_registry_repository': {
        const p = prices.artifact_registry_gb_month;
        add(
          r,
          FREE_TIER,
          0,
          `image storage: ${ft.artifact_registry_storage_gb} GB free, then $${p.usd}/GB-month (usage-based; cleanup keeps the recent releases)`,
        );
        break;
      }
      default:
        add(
          r,
          UNEXPECTED,
          0,
          'no price rule for this resource type: review its cost and add it to terraform/prices.json',
        );
    }
  }

  const sum = (cls) => round2(lines.filter((l) => l.class === cls).reduce((a, l) => a + l.monthlyUsd, 0));
  return {
    lines,
    knownMonthlyUsd: sum(KNOWN),
    unexpectedMonthlyUsd: sum(UNEXPECTED),
    ok: !lines.some((l) => l.class === UNEXPECTED),
  };
}

/** The report as text, one resource a line, then the totals and the verdict. */
export function formatReport(report, currency = 'USD') {
  const width = Math.max(8, ...report.lines.map((l) => l.address.length));
  const money = (n) => `${n.toFixed(2).padStart(7)} ${currency}/mo`;
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
