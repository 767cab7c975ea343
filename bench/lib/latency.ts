// What clients saw during the deploy bench, as a picture: latency per second (p50 and p99 of the
// requests started in that second, failures counted apart) with each deploy and rollback marked.
// The numbers are pure (tested without servers); the SVG is drawn by Vega-Lite, not by hand.
import type { LoadSample } from '../../test/e2e/support/proxy.ts';

export type Mark = { at: number; label: string };
export type SecondRow = { run: string; second: number; p50: number; p99: number; failed: number };

/** The nearest-rank percentile of sorted values (p in 0..100); NaN when there are none. */
export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export type Run = { release: string; requests: number; firstAt: number; lastAt: number };

/**
 * The releases that answered, in the order the requests started: runs of one release. The load
 * client's own list is in the order answers arrived, where a slow request to the old colour that
 * started before a switch can arrive after a fast one to the new. A short run between two of
 * another release is a request that the proxy still sent to the colour before (how long after,
 * `firstAt` against the run before's says).
 */
export function runsByStart(samples: LoadSample[]): Run[] {
  const out: Run[] = [];
  for (const s of [...samples].sort((a, b) => a.at - b.at)) {
    if (!s.release) continue;
    const last = out.at(-1);
    if (last?.release === s.release) {
      last.requests++;
      last.lastAt = s.at;
    } else out.push({ release: s.release, requests: 1, firstAt: s.at, lastAt: s.at });
  }
  return out;
}

/** One row per second from `start` that saw a request: p50 and p99 in ms, and the failures. */
export function perSecond(run: string, samples: LoadSample[], start: number): SecondRow[] {
  const buckets = new Map<number, { ms: number[]; failed: number }>();
  for (const s of samples) {
    const second = Math.floor((s.at - start) / 1000);
    const b = buckets.get(second) ?? { ms: [], failed: 0 };
    if (s.failed) b.failed++;
    else b.ms.push(s.ms);
    buckets.set(second, b);
  }
  return [...buckets.entries()]
    .sort(([a], [b]) => a - b)
    .map(([second, b]) => {
      const sorted = b.ms.sort((x, y) => x - y);
      return { run, second, p50: percentile(sorted, 50), p99: percentile(sorted, 99), failed: b.failed };
    })
    .filter((r) => !Number.isNaN(r.p50) || r.failed > 0);
}

/**
 * A Vega-Lite spec: one panel per run (CPU profile), p50 and p99 lines on a log scale, a rule at
 * each deploy or rollback start with its label, and red points on seconds with a failed request.
 * A faceted chart reads one data set, so every record carries its `kind` and each layer filters.
 */
export function chartSpec(rows: SecondRow[], marks: (Mark & { run: string; second: number })[]) {
  const values = [
    ...rows.flatMap((r) =>
      (['p50', 'p99'] as const)
        .filter((q) => !Number.isNaN(r[q]))
        .map((q) => ({ kind: 'line', run: r.run, second: r.second, quantile: q, ms: r[q] })),
    ),
    ...marks.map((m) => ({ kind: 'mark', run: m.run, second: m.second, label: m.label })),
    ...rows
      .filter((r) => r.failed > 0)
      .map((r) => ({
        kind: 'failure',
        run: r.run,
        second: r.second,
        failed: r.failed,
        ms: Math.max(r.p99 || 1, 1),
      })),
  ];
  const only = (kind: string) => [{ filter: { field: 'kind', equal: kind } }];
  const x = { field: 'second', type: 'quantitative', title: 'seconds from the start of the run' };
  const y = { field: 'ms', type: 'quantitative', scale: { type: 'log' }, title: 'latency (ms)' };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Latency clients saw during deploys and rollbacks (no retry)',
    data: { values },
    facet: { row: { field: 'run', type: 'nominal', title: null } },
    spec: {
      width: 720,
      height: 180,
      layer: [
        {
          transform: only('line'),
          mark: { type: 'line', strokeWidth: 1 },
          encoding: { x, y, color: { field: 'quantile', type: 'nominal', title: null } },
        },
        {
          transform: only('mark'),
          mark: { type: 'rule', strokeDash: [3, 3], color: '#888' },
          encoding: { x },
        },
        {
          transform: only('mark'),
          mark: { type: 'text', angle: 270, align: 'right', baseline: 'bottom', dy: -2, fontSize: 9, y: 0 },
          encoding: { x, text: { field: 'label' } },
        },
        {
          transform: only('failure'),
          mark: { type: 'point', color: 'red', filled: true },
          encoding: { x, y, tooltip: { field: 'failed' } },
        },
      ],
    },
    resolve: { scale: { x: 'independent' } },
  };
}
