// What every price rule shares while one plan is priced: the table, the free pools that the
// first resources use up, the whole plan (a rule may look at a related resource) and the lines.
import type { CostClass, Line, PlannedResource, Prices } from './types.ts';

export const round2 = (n: number): number => Math.round(n * 100) / 100;
export const regionOfZone = (zone: unknown): string | undefined =>
  typeof zone === 'string' ? zone.replace(/-[a-z]$/, '') : undefined;

export class CostContext {
  readonly lines: Line[] = [];
  freeMicrosLeft: number;
  freeStandardGbLeft: number;

  readonly prices: Prices;
  readonly resources: PlannedResource[];

  // No parameter properties: Node runs these files by stripping types, which cannot rewrite them.
  constructor(prices: Prices, resources: PlannedResource[]) {
    this.prices = prices;
    this.resources = resources;
    this.freeMicrosLeft = prices.free_tier.e2_micro_instances;
    this.freeStandardGbLeft = prices.free_tier.pd_standard_gb;
  }

  get hours(): number {
    return this.prices.hours_per_month;
  }

  inFreeRegion(region: unknown): boolean {
    return this.prices.free_tier.regions.includes(String(region ?? '').toLowerCase());
  }

  /** "page, date" of a source key, shown beside every priced line. */
  cite(key: string): string {
    const s = this.prices.sources[key];
    return s ? `${s.page}, ${s.recorded}` : key;
  }

  add(r: PlannedResource, cls: CostClass, monthlyUsd: number, note: string, source?: string): void {
    this.lines.push({
      address: r.address,
      type: r.type,
      class: cls,
      monthlyUsd: round2(monthlyUsd),
      note,
      ...(source ? { source } : {}),
    });
  }
}

/** A price rule: adds the line(s) of one resource of its type. */
export type Rule = (r: PlannedResource, ctx: CostContext) => void;
