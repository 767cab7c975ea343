import { describe, expect, it } from 'vitest';
import { chartSpec, percentile, perSecond, runsByStart } from './latency.ts';

describe('latency per second', () => {
  it('orders the releases by when each request started, not when it was answered', () => {
    const samples = [
      { at: 1, ms: 1, failed: false, release: 'v1' },
      { at: 5, ms: 1, failed: false, release: 'v2' },
      { at: 2, ms: 900, failed: false, release: 'v1' }, // slow, answered last
      { at: 6, ms: 1, failed: true },
      { at: 7, ms: 1, failed: false, release: 'v2' },
    ];
    expect(runsByStart(samples)).toEqual([
      { release: 'v1', requests: 2, firstAt: 1, lastAt: 2 },
      { release: 'v2', requests: 2, firstAt: 5, lastAt: 7 },
    ]);
  });

  it('takes nearest-rank percentiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it('buckets requests by the second they started in, failures apart', () => {
    const start = 10_000;
    const rows = perSecond(
      'full',
      [
        { at: 10_100, ms: 4, failed: false },
        { at: 10_900, ms: 2, failed: false },
        { at: 11_000, ms: 30, failed: false },
        { at: 11_500, ms: 5000, failed: true },
        { at: 13_200, ms: 9000, failed: true },
      ],
      start,
    );
    expect(rows).toEqual([
      { run: 'full', second: 0, p50: 2, p99: 4, failed: 0 },
      { run: 'full', second: 1, p50: 30, p99: 30, failed: 1 },
      { run: 'full', second: 3, p50: Number.NaN, p99: Number.NaN, failed: 1 },
    ]);
  });

  it('draws lines only where there is a latency, and a point on each second that failed', () => {
    const spec = chartSpec(
      [
        { run: 'full', second: 0, p50: 2, p99: 4, failed: 0 },
        { run: 'full', second: 3, p50: Number.NaN, p99: Number.NaN, failed: 2 },
      ],
      [{ run: 'full', second: 0, at: 0, label: 'deploy 1' }],
    );
    const of = (kind: string) => spec.data.values.filter((v) => v.kind === kind);
    expect(of('line')).toHaveLength(2);
    expect(of('mark')).toEqual([expect.objectContaining({ second: 0, label: 'deploy 1' })]);
    expect(of('failure')).toEqual([expect.objectContaining({ second: 3, failed: 2, ms: 1 })]);
  });
});
