// The status screen's I/O: run each probe once, one at a time (the hardened sshd allows few
// sessions per connection), and judge the output with the pure checks.
import { type ActiveState, parseActive } from '../deploy/state.ts';
import type { Runner, RunResult } from '../runner.ts';
import { CHECKS, type Level, type Verdict } from './judges.ts';
import { readActive, statusProbes } from './probes.ts';

export interface Finding extends Verdict {
  id: string;
  title: string;
  /** How long the probe behind it took. */
  ms: number;
}

export interface StatusReport {
  ok: boolean;
  level: Level;
  findings: Finding[];
  active?: ActiveState;
  ms: number;
}

export type ProbeEvent = { id: string; ms: number; code: number };

export async function runStatus(
  vm: Runner,
  opts: { domain: string; now?: () => Date; onProbe?: (e: ProbeEvent) => void; reachable?: Finding },
): Promise<StatusReport> {
  const now = opts.now ?? (() => new Date());
  const t0 = Date.now();
  const results = new Map<string, { r: RunResult; ms: number }>();
  const probe = async (id: string, argv: string[]) => {
    const p0 = Date.now();
    const r = await vm
      .run(argv, { check: false })
      .catch((e: Error): RunResult => ({ code: 255, stdout: '', stderr: e.message }));
    const ms = Date.now() - p0;
    results.set(id, { r, ms });
    opts.onProbe?.({ id, ms, code: r.code });
    return r;
  };
  const first = readActive();
  const stateText = await probe(first.id, first.argv);
  let active: ActiveState | undefined;
  let stateError: string | undefined;
  try {
    active = parseActive(stateText.stdout);
  } catch (e) {
    stateError = (e as Error).message;
  }
  for (const p of statusProbes({ domain: opts.domain, active })) await probe(p.id, p.argv);
  const ctx = { now: now(), active };
  const findings: Finding[] = opts.reachable ? [opts.reachable] : [];
  for (const c of CHECKS) {
    const got = results.get(c.probe);
    if (!got) continue;
    const verdict =
      c.id === 'release' && stateError
        ? { level: 'fail' as const, summary: stateError, threshold: 'fail when state.json is unreadable' }
        : c.judge(got.r, ctx);
    findings.push({ id: c.id, title: c.title, ms: got.ms, ...verdict });
  }
  const level: Level = findings.some((f) => f.level === 'fail')
    ? 'fail'
    : findings.some((f) => f.level === 'warn')
      ? 'warn'
      : 'ok';
  return { ok: level !== 'fail', level, findings, active, ms: Date.now() - t0 };
}

/** One line per finding: "fail  database     mariadb is inactive   [fail unless ...]". */
export function renderFindings(
  findings: Finding[],
  color: (level: Level, s: string) => string = (_, s) => s,
) {
  const width = Math.max(...findings.map((f) => f.title.length));
  return findings
    .map(
      (f) => `${color(f.level, f.level.padEnd(4))}  ${f.title.padEnd(width)}  ${f.summary}  [${f.threshold}]`,
    )
    .join('\n');
}
