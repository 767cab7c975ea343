// Pure: what the scan decides besides the findings themselves. osv-scanner's exit and stderr ->
// "data" or "no data", apt-cache's answer -> the version it offers, the verdict -> report lines
// and the exit code. No I/O: the entry's cli.ts runs the processes and prints.
import { type Finding, LEVELS, type Level, type ScanPolicy, type Verdict } from './findings.ts';

/** What one osv-scanner run says about the data it had. */
export type OsvOutcome = { data: true; noData?: string } | { data: false; noData: string };

/**
 * osv-scanner reports a database it could not load on stderr and then "0 found" for those
 * packages: that is no data, not a clean result. Exit 0 is clean, 1 is findings, anything else
 * (or a failed retrieval) means its stdout is not to be read.
 */
export function osvOutcome(stderr: string, exitCode: number | null): OsvOutcome {
  const offline = /error when retrieving vulns[^\n]*/i.exec(stderr)?.[0];
  if (offline || exitCode === null || ![0, 1].includes(exitCode))
    return {
      data: false,
      noData: `osv-scanner got no vulnerability data (exit ${exitCode}): ${offline ?? stderr.trim().split('\n').pop()}`,
    };
  const missing = [...stderr.matchAll(/could not load db for (\S+) ecosystem/g)].map((m) => m[1]);
  if (missing.length)
    return {
      data: true,
      noData: `no vulnerability data for ${[...new Set(missing)].join(', ')} (osv-scanner could not load it)`,
    };
  return { data: true };
}

/** `apt-cache policy NAME` -> the newest version apt offers and from where (e.g. bookworm-security). */
export function aptCandidate(stdout: string): { version: string; origin: string } | undefined {
  const version = /Candidate: (\S+)/.exec(stdout)?.[1];
  if (!version || version === '(none)') return undefined;
  const block = stdout.split('\n');
  const i = block.findIndex((l) => l.trim().startsWith(version) || l.includes(` ${version} `));
  const origin =
    block
      .slice(i + 1, i + 3)
      .join(' ')
      .match(/\S+\s+(bookworm[\w-]*)\//)?.[1] ?? 'apt';
  return { version, origin: `Debian ${origin}` };
}

export type Tag = 'FAIL' | 'allow' | 'below';

/** Each finding with its verdict, and the allow-list entries to speak of. */
export function findingLines(findings: Finding[], v: Verdict): { tag: Tag; line: string }[] {
  return findings.map((f) => ({
    tag: v.failing.includes(f) ? 'FAIL' : v.allowed.some((a) => a.finding === f) ? 'allow' : 'below',
    line: `${f.level.padEnd(8)} ${f.id.padEnd(22)} ${f.package}@${f.version} (${f.source}) ${f.summary}`,
  }));
}

export const countByLevel = (findings: Finding[]): Record<Level, number> =>
  Object.fromEntries(LEVELS.map((l) => [l, findings.filter((f) => f.level === l).length])) as Record<
    Level,
    number
  >;

/** The closing line of a scan. */
export function summaryLine(findings: Finding[], v: Verdict, policy: ScanPolicy, noData: string | null) {
  const counts = countByLevel(findings);
  return `scan${noData ? ' (no vulnerability data: Debian check only)' : ''}: ${findings.length} findings (${LEVELS.map((l) => `${counts[l]} ${l}`).join(', ')}); ${v.failing.length} at or above ${policy.failAt} not allow-listed, ${v.allowed.length} allow-listed`;
}

/** 1 on a failing finding; else 3 when there was no data (0 with --allow-no-data); else 0. */
export function scanExitCode(failing: number, noData: string | null, allowNoData: boolean): number {
  if (failing) return 1;
  if (noData) return allowNoData ? 0 : 3;
  return 0;
}
