import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { costReport } from './report.ts';
import type { Prices } from './types.ts';

const prices: Prices = JSON.parse(
  readFileSync(new URL('../../../terraform/prices.json', import.meta.url), 'utf8'),
);
// The resources of terraform/compute.tf as `terraform show -json` prints a plan of them.
const rc = (address: string, after: Record<string, unknown>) => ({
  address,
  mode: 'managed',
  type: address.split('.')[0],
  change: { actions: ['create'], after },
});
const vm = rc('google_compute_instance.main[0]', {
  name: 'e2m-prod',
  machine_type: 'e2-micro',
  zone: 'us-central1-b',
  boot_disk: [{ initialize_params: [{ size: 30, type: 'pd-standard' }] }],
});
const schedule = (locations: string[]) =>
  rc('google_compute_resource_policy.snapshots[0]', {
    name: 'e2m-prod-daily',
    snapshot_schedule_policy: [
      {
        retention_policy: [{ max_retention_days: 3 }],
        snapshot_properties: [{ storage_locations: locations }],
      },
    ],
  });
const attachment = rc('google_compute_disk_resource_policy_attachment.snapshots[0]', {
  name: 'e2m-prod-daily',
  disk: 'e2m-prod',
});
const report = (...changes: unknown[]) => costReport({ resource_changes: changes }, prices);
const line = (r: ReturnType<typeof costReport>, address: string) =>
  r.lines.find((l) => l.address === address);

describe('snapshot schedule', () => {
  it('prices daily regional snapshots of the attached boot disk: no free tier, at most its size', () => {
    const r = report(vm, schedule(['us-central1']), attachment);
    // 30 GB * $0.05/GB-month for the first full snapshot; the daily changes come on top.
    expect(line(r, 'google_compute_resource_policy.snapshots[0]')).toMatchObject({
      class: 'known-charge',
      monthlyUsd: 1.5,
    });
    const l = line(r, 'google_compute_resource_policy.snapshots[0]');
    expect(l?.note).toMatch(/kept 3 days: at most 30 GB .* no free tier/);
    expect(l?.source).toMatch(/pricing announcements .*, 2026-12-02/);
    expect(r.knownMonthlyUsd).toBe(1.5);
    expect(r.ok).toBe(true);
  });

  it('fails multi-regional snapshot storage and prices it at the multi-regional rate', () => {
    const r = report(vm, schedule(['us']), attachment);
    expect(line(r, 'google_compute_resource_policy.snapshots[0]')).toMatchObject({
      class: 'unexpected',
      monthlyUsd: 1.95,
    });
    expect(r.ok).toBe(false);
  });

  it('says so when the plan shows no attached disk, instead of inventing a size', () => {
    const r = report(schedule(['us-central1']));
    const l = line(r, 'google_compute_resource_policy.snapshots[0]');
    expect(l).toMatchObject({ class: 'known-charge', monthlyUsd: 0 });
    expect(l?.note).toMatch(/no attached disk in this plan/);
  });
});

describe('external address', () => {
  it('is a known charge with no free tier, internal ones are free', () => {
    const r = report(
      rc('google_compute_address.main[0]', { address_type: 'EXTERNAL' }),
      rc('google_compute_address.internal', { address_type: 'INTERNAL' }),
    );
    expect(line(r, 'google_compute_address.main[0]')).toMatchObject({
      class: 'known-charge',
      monthlyUsd: 3.65,
    });
    expect(line(r, 'google_compute_address.main[0]')?.note).toMatch(/no free tier/);
    // Egress is usage: named with its allowance and rate, never summed.
    expect(line(r, 'google_compute_address.main[0]')?.note).toMatch(/1 GiB\/month free, then \$0\.12\/GiB/);
    expect(line(r, 'google_compute_address.internal')?.class).toBe('free');
  });
});

describe('prices.json', () => {
  it('says for every source how its page was found, and when it was read', () => {
    for (const [key, s] of Object.entries(prices.sources)) {
      expect(s.url, key).toMatch(/^https:\/\/cloud\.google\.com\//);
      expect((s as { search?: string }).search, key).toMatch(/\S{10}/);
      expect(s.recorded, key).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
  });

  it('has no free snapshot allowance left', () => {
    expect(prices.free_tier).not.toHaveProperty('snapshot_gb_month');
  });
});
