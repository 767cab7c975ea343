// The shapes the cost report reads and writes: terraform/prices.json, a planned resource, a line.

/** Resource classes, in report order. */
export const FREE = 'free';
export const FREE_TIER = 'free-tier';
export const KNOWN = 'known-charge';
export const UNEXPECTED = 'unexpected';
export type CostClass = typeof FREE | typeof FREE_TIER | typeof KNOWN | typeof UNEXPECTED;

/** Where a figure was read: the page (title and URL) found with the search tool, and when. */
export interface Source {
  page: string;
  url: string;
  recorded: string;
}

/** A price entry names its source by key; the other keys are the figures. */
export type PriceEntry = { source: string } & Record<string, number | string>;

export interface Prices {
  currency: string;
  hours_per_month: number;
  sources: Record<string, Source>;
  free_tier: {
    source: string;
    regions: string[];
    e2_micro_instances: number;
    pd_standard_gb: number;
    storage_standard_gb_month: number;
    uptime_check_executions_per_month: number;
    cloud_run_vcpu_seconds_per_month: number;
    cloud_run_gib_seconds_per_month: number;
    cloud_run_requests_per_month: number;
    cloud_run_max_instances: number;
    cloud_run_memory_mib: number;
    secret_manager_active_versions: number;
    artifact_registry_storage_gb: number;
  };
  machine_hourly: PriceEntry;
  disk_gb_month: PriceEntry;
  snapshot_gb_month: { source: string; regional_usd: number; multi_regional_usd: number };
  external_ipv4_hourly: { source: string; usd: number };
  internet_egress_gib: { source: string; premium_north_america_usd: number; free_gib_per_month: number };
  storage_standard_gb_month: { source: string; usd: number };
  alert_condition_month: { source: string; usd: number; million_time_series_usd: number };
  free_resource_types: { types: string[] };
  cloud_run_request_based: {
    source: string;
    vcpu_second_usd: number;
    gib_second_usd: number;
    million_requests_usd: number;
  };
  cloud_sql_instance_hourly: PriceEntry;
  cloud_sql_storage_gb_month: PriceEntry;
  memorystore_basic_gb_hour: { source: string; usd: number };
  secret_version_month: { source: string; usd: number };
  artifact_registry_gb_month: { source: string; usd: number };
}

/** Planned attribute values as `terraform show -json` prints them: nested blocks are arrays. */
// biome-ignore lint/suspicious/noExplicitAny: plan JSON is provider-shaped; each rule reads only what it knows.
export type Values = Record<string, any>;

export interface PlannedResource {
  address: string;
  type: string;
  values: Values;
}

export interface Line {
  address: string;
  type: string;
  class: CostClass;
  monthlyUsd: number;
  note: string;
  source?: string;
}

export interface Report {
  lines: Line[];
  knownMonthlyUsd: number;
  unexpectedMonthlyUsd: number;
  ok: boolean;
}
