import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { costReport, formatReport, plannedResources } from './report.ts';
import type { Prices } from './types.ts';

const prices: Prices = JSON.parse(
  readFileSync(new URL('../../../terraform/prices.json', import.meta.url), 'utf8'),
);
const entry = (key: string) => (prices as unknown as Record<string, { source: string }>)[key];

// The parts of `terraform show -json` the report reads, shaped as Terraform prints them.
const rc = (address: string, after: Record<string, unknown>, actions = ['create']) => ({
  address,
  mode: 'managed',
  type: address.split('.')[0],
  name: address.split('.')[1],
  change: { actions, after },
});
const vm = (over: Record<string, unknown> = {}) =>
  rc('google_compute_instance.main', {
    machine_type: 'e2-micro',
    zone: 'us-central1-b',
    scheduling: [{ preemptible: false, provisioning_model: 'STANDARD' }],
    boot_disk: [{ initialize_params: [{ size: 30, type: 'pd-standard' }] }],
    ...over,
  });
const freeStack = () => [
  vm(),
  rc('google_compute_address.main', { address_type: 'EXTERNAL', region: 'us-central1' }),
  rc('google_compute_network.main', { auto_create_subnetworks: false }),
  rc('google_storage_bucket.backups', { location: 'US-CENTRAL1', storage_class: 'STANDARD' }),
  rc('google_monitoring_uptime_check_config.main', { period: '300s', selected_regions: null }),
  rc('google_monitoring_alert_policy.main', { conditions: [{ display_name: 'down' }] }),
];
const plan = (changes: unknown[]) => ({ format_version: '1.2', resource_changes: changes });
const line = (report: ReturnType<typeof costReport>, address: string) => {
  const found = report.lines.find((l) => l.address === address);
  if (!found) throw new Error(`no line for ${address}`);
  return found;
};

describe('costReport', () => {
  it('passes the free-tier stack with the external IPv4 and the alert condition as known charges', () => {
    const report = costReport(plan(freeStack()), prices);
    expect(report.ok).toBe(true);
    expect(line(report, 'google_compute_instance.main').class).toBe('free-tier');
    expect(line(report, 'google_compute_instance.main (boot disk)').class).toBe('free-tier');
    expect(line(report, 'google_compute_address.main')).toMatchObject({
      class: 'known-charge',
      monthlyUsd: 3.65,
    });
    expect(line(report, 'google_monitoring_alert_policy.main')).toMatchObject({
      class: 'known-charge',
      monthlyUsd: 1.5,
    });
    expect(line(report, 'google_compute_network.main').class).toBe('free');
    expect(report.knownMonthlyUsd).toBe(5.15);
    expect(report.unexpectedMonthlyUsd).toBe(0);
  });

  it('fails a paid machine type and prices it from the table', () => {
    const report = costReport(plan([vm({ machine_type: 'e2-small' })]), prices);
    expect(report.ok).toBe(false);
    expect(line(report, 'google_compute_instance.main')).toMatchObject({
      class: 'unexpected',
      monthlyUsd: 12.23,
    });
    expect(line(report, 'google_compute_instance.main').source).toMatch(/VM instance pricing.*2026-11-23/);
  });

  it('fails an e2-micro outside the free-tier regions, and a spot one', () => {
    expect(costReport(plan([vm({ zone: 'europe-west1-b' })]), prices).ok).toBe(false);
    const spot = costReport(
      plan([vm({ scheduling: [{ preemptible: false, provisioning_model: 'SPOT' }] })]),
      prices,
    );
    expect(line(spot, 'google_compute_instance.main').note).toMatch(/spot/);
    expect(spot.ok).toBe(false);
  });

  it('counts only one e2-micro as free', () => {
    const second = rc('google_compute_instance.second', vm().change.after);
    const report = costReport(plan([vm(), second]), prices);
    expect(line(report, 'google_compute_instance.second')).toMatchObject({
      class: 'unexpected',
      monthlyUsd: 6.12,
    });
  });

  it('charges standard disk beyond the 30 GB pool and any SSD', () => {
    const big = costReport(
      plan([vm({ boot_disk: [{ initialize_params: [{ size: 50, type: 'pd-standard' }] }] })]),
      prices,
    );
    expect(line(big, 'google_compute_instance.main (boot disk)')).toMatchObject({
      class: 'unexpected',
      monthlyUsd: 0.8,
    });
    const ssd = costReport(
      plan([vm({ boot_disk: [{ initialize_params: [{ size: 10, type: 'pd-ssd' }] }] })]),
      prices,
    );
    expect(line(ssd, 'google_compute_instance.main (boot disk)')).toMatchObject({
      class: 'unexpected',
      monthlyUsd: 1.7,
    });
  });

  it('fails a resource type the table does not know', () => {
    const report = costReport(
      plan([...freeStack(), rc('google_container_cluster.main', { location: 'us-central1' })]),
      prices,
    );
    expect(report.ok).toBe(false);
    expect(line(report, 'google_container_cluster.main').note).toMatch(/no price rule/);
  });

  it('fails a multi-region or non-standard bucket and non-regional snapshots', () => {
    expect(
      costReport(plan([rc('google_storage_bucket.b', { location: 'US', storage_class: 'STANDARD' })]), prices)
        .ok,
    ).toBe(false);
    const snap = (loc: string[]) =>
      rc('google_compute_resource_policy.s', {
        snapshot_schedule_policy: [{ snapshot_properties: [{ storage_locations: loc }] }],
      });
    expect(costReport(plan([snap(['us-central1'])]), prices).ok).toBe(true);
    expect(costReport(plan([snap(['us'])]), prices).ok).toBe(false);
  });

  it('fails an uptime check that runs beyond the free executions', () => {
    const check = (period: string) => rc('google_monitoring_uptime_check_config.main', { period });
    expect(costReport(plan([check('300s')]), prices).ok).toBe(true);
    expect(costReport(plan([check('1s')]), prices).ok).toBe(false);
  });

  it('ignores deletions and data sources, and refuses what is not a plan', () => {
    const gone = rc('google_compute_instance.old', { machine_type: 'n2-standard-8', zone: 'us-central1-b' }, [
      'delete',
    ]);
    const data = { ...rc('google_compute_image.debian', {}), mode: 'data' };
    expect(plannedResources(plan([gone, data, vm()])).map((r) => r.address)).toEqual([
      'google_compute_instance.main',
    ]);
    expect(() => costReport({ values: {} }, prices)).toThrow(/terraform show -json/);
  });

  it('cites a dated source page for every price', () => {
    for (const [key, s] of Object.entries(prices.sources)) {
      expect(s.page, key).toMatch(/pricing|Free/i);
      expect(s.recorded, key).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
    for (const key of [
      'machine_hourly',
      'disk_gb_month',
      'snapshot_gb_month',
      'external_ipv4_hourly',
      'alert_condition_month',
      'cloud_run_request_based',
      'cloud_sql_instance_hourly',
      'cloud_sql_storage_gb_month',
      'memorystore_basic_gb_hour',
      'secret_version_month',
      'artifact_registry_gb_month',
    ]) {
      expect(prices.sources[entry(key).source], key).toBeDefined();
    }
  });
});

// The cloud_run shape's priced resources, as the provider plans them (terraform/cloud_run.tf).
const container = (cpu: string, memory: string, cpuIdle = true) => ({
  resources: [{ limits: { cpu, memory }, cpu_idle: cpuIdle }],
});
const runService = (over: Record<string, unknown> = {}) =>
  rc('google_cloud_run_v2_service.main', {
    template: [
      {
        scaling: [{ min_instance_count: 0, max_instance_count: 1 }],
        containers: [container('0.75', '448Mi'), container('0.25', '64Mi')],
        ...over,
      },
    ],
  });
const sqlInstance = (settings: Record<string, unknown> = {}) =>
  rc('google_sql_database_instance.main', {
    settings: [
      { tier: 'db-f1-micro', availability_type: 'ZONAL', disk_type: 'PD_HDD', disk_size: 10, ...settings },
    ],
  });

describe('costReport, cloud_run shape', () => {
  it('puts one request-billed 512 MiB instance in the free tier and the smallest Cloud SQL as a known charge', () => {
    const report = costReport(
      plan([
        runService(),
        sqlInstance(),
        rc('google_secret_manager_secret.app', {}),
        rc('google_artifact_registry_repository.main', { format: 'DOCKER' }),
        rc('google_sql_database.app', { name: 'app' }),
        rc('google_cloud_run_v2_job.migrate', {}),
      ]),
      prices,
    );
    expect(report.ok).toBe(true);
    expect(line(report, 'google_cloud_run_v2_service.main')).toMatchObject({
      class: 'free-tier',
      monthlyUsd: 0,
    });
    expect(line(report, 'google_cloud_run_v2_service.main').note).toMatch(
      /1 instance\(s\) max, 1 vCPU, 512 MiB/,
    );
    // 0.0105 $/hour * 730 h + 10 GB * 0.09 $/GB-month
    expect(line(report, 'google_sql_database_instance.main')).toMatchObject({
      class: 'known-charge',
      monthlyUsd: 8.57,
    });
    expect(line(report, 'google_secret_manager_secret.app').class).toBe('free-tier');
    expect(line(report, 'google_artifact_registry_repository.main').class).toBe('free-tier');
    expect(line(report, 'google_cloud_run_v2_job.migrate').class).toBe('free-tier');
    expect(report.knownMonthlyUsd).toBe(8.57);
  });

  it('fails more instances, more memory, always-on CPU or a minimum instance', () => {
    const noteOf = (over: Record<string, unknown>) => {
      const l = line(costReport(plan([runService(over)]), prices), 'google_cloud_run_v2_service.main');
      expect(l.class).toBe('unexpected');
      return l.note;
    };
    expect(noteOf({ scaling: [{ min_instance_count: 0, max_instance_count: 3 }] })).toMatch(
      /max instances 3/,
    );
    expect(noteOf({ containers: [container('1', '1Gi')] })).toMatch(/1024 MiB/);
    expect(noteOf({ containers: [container('1', '512Mi', false)] })).toMatch(/instance-based billing/);
    expect(noteOf({ scaling: [{ min_instance_count: 1, max_instance_count: 1 }] })).toMatch(/always-on/);
  });

  it('fails a larger or highly available Cloud SQL, and prices Memorystore as unexpected', () => {
    const report = costReport(
      plan([
        sqlInstance({ tier: 'db-g1-small' }),
        rc('google_redis_instance.main', { tier: 'BASIC', memory_size_gb: 1 }),
      ]),
      prices,
    );
    expect(report.ok).toBe(false);
    // 0.035 * 730 + 0.9
    expect(line(report, 'google_sql_database_instance.main')).toMatchObject({
      class: 'unexpected',
      monthlyUsd: 26.45,
    });
    // 0.049 $/GB-hour * 1 GB * 730 h
    expect(line(report, 'google_redis_instance.main')).toMatchObject({
      class: 'unexpected',
      monthlyUsd: 35.77,
    });
    expect(
      line(
        costReport(plan([sqlInstance({ availability_type: 'REGIONAL' })]), prices),
        'google_sql_database_instance.main',
      ).class,
    ).toBe('unexpected');
  });
});

describe('formatReport and scripts/infra-cost.mjs', () => {
  it('prints one line per resource and the verdict', () => {
    const text = formatReport(costReport(plan(freeStack()), prices));
    expect(text.trim().split('\n')).toHaveLength(freeStack().length + 1 + 4);
    expect(text).toMatch(/known charges:\s+5\.15 USD\/mo/);
    expect(text).toMatch(/^OK:/m);
  });

  it('exits 0 for the free stack and 1 when something unexpected would cost money', () => {
    const dir = mkdtempSync(join(tmpdir(), 'infra-cost-'));
    writeFileSync(join(dir, 'ok.json'), JSON.stringify(plan(freeStack())));
    writeFileSync(join(dir, 'paid.json'), JSON.stringify(plan([vm({ machine_type: 'e2-medium' })])));
    expect(
      execFileSync(process.execPath, ['scripts/infra-cost.mjs', join(dir, 'ok.json')], { encoding: 'utf8' }),
    ).toMatch(/^OK:/m);
    let err: { status?: number; stdout?: unknown } | undefined;
    try {
      execFileSync(process.execPath, ['scripts/infra-cost.mjs', join(dir, 'paid.json')], { stdio: 'pipe' });
    } catch (e) {
      err = e as typeof err;
    }
    expect(err?.status).toBe(1);
    expect(String(err?.stdout)).toMatch(/FAIL: 1 resource\(s\) would cost money unexpectedly/);
  });
});
