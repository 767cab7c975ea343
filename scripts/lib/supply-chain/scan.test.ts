// The scan's own decisions: what osv-scanner's stderr and exit say about the data, what apt offers,
// the lines it prints per finding and its exit code. Inputs are the tools' real output.
import { describe, expect, it } from 'vitest';
import { type Finding, judge, type ScanPolicy } from './findings.ts';
import { aptCandidate, findingLines, osvOutcome, scanExitCode, summaryLine } from './scan.ts';

describe('osvOutcome', () => {
  it('a database it could not load is no data, never a clean result', () => {
    // osv-scanner 2 with an empty --local-db-path and --offline-vulnerabilities: exit 127.
    const stderr =
      'Scanned /repo/backend/bun.lock file and found 130 packages\n' +
      'could not load db for npm ecosystem: unable to fetch OSV database: no offline version of the OSV database is available\n';
    expect(osvOutcome(stderr, 127)).toEqual({
      data: false,
      noData:
        'osv-scanner got no vulnerability data (exit 127): could not load db for npm ecosystem: unable to fetch OSV database: no offline version of the OSV database is available',
    });
    // The same message with exit 1 (findings in the ecosystems it had): the findings count, and
    // the ecosystems without data are named once.
    expect(
      osvOutcome(
        `${stderr}could not load db for npm ecosystem: again\ncould not load db for Debian ecosystem: x`,
        1,
      ),
    ).toEqual({
      data: true,
      noData: 'no vulnerability data for npm, Debian (osv-scanner could not load it)',
    });
  });

  it('a failed retrieval or a killed scanner is no data; exit 0 and 1 are data', () => {
    expect(
      osvOutcome('Error when retrieving vulns: dial tcp: lookup api.osv.dev: no such host\n', 1),
    ).toEqual({
      data: false,
      noData:
        'osv-scanner got no vulnerability data (exit 1): Error when retrieving vulns: dial tcp: lookup api.osv.dev: no such host',
    });
    expect(osvOutcome('', null)).toMatchObject({ data: false, noData: /\(exit null\)/ });
    expect(osvOutcome('Scanned x and found 3 packages\n', 0)).toEqual({ data: true });
    expect(osvOutcome('Scanned x and found 3 packages\n', 1)).toEqual({ data: true });
  });
});

describe('aptCandidate', () => {
  // `apt-cache policy libc6 ca-certificates` on Debian 12 with the security archive.
  const libc6 = `libc6:
  Installed: 2.36-9+deb12u14
  Candidate: 2.36-9+deb12u14
  Version table:
 *** 2.36-9+deb12u14 500
        500 http://deb.debian.org/debian bookworm/main amd64 Packages
        100 /var/lib/dpkg/status
     2.36-9+deb12u7 500
        500 http://deb.debian.org/debian-security bookworm-security/main amd64 Packages
`;
  const caCerts = `ca-certificates:
  Installed: 20230311+deb12u1
  Candidate: 20250419~deb12u2
  Version table:
     20250419~deb12u2 500
        500 http://deb.debian.org/debian-security bookworm-security/main amd64 Packages
 *** 20230311+deb12u1 500
        500 http://deb.debian.org/debian bookworm/main amd64 Packages
`;

  it('the candidate version and the archive it comes from', () => {
    expect(aptCandidate(libc6)).toEqual({ version: '2.36-9+deb12u14', origin: 'Debian bookworm' });
    expect(aptCandidate(caCerts)).toEqual({
      version: '20250419~deb12u2',
      origin: 'Debian bookworm-security',
    });
  });

  it('nothing when apt knows no candidate', () => {
    expect(aptCandidate('libfoo:\n  Installed: (none)\n  Candidate: (none)\n')).toBeUndefined();
    expect(aptCandidate('')).toBeUndefined();
  });
});

const finding = (id: string, level: Finding['level'], pkg = 'koa'): Finding => ({
  id,
  aliases: [],
  package: pkg,
  version: '3.3.0',
  ecosystem: 'npm',
  source: 'backend/bun.lock',
  level,
  score: '',
  summary: `advisory ${id}`,
});

describe('the verdict as printed', () => {
  const policy: ScanPolicy = {
    failAt: 'high',
    unknownAs: 'high',
    allow: [{ id: 'GHSA-allowed', reason: 'not reachable from the app at all', expires: '2099-01-01' }],
  };
  const findings = [
    finding('GHSA-fail', 'critical'),
    finding('GHSA-allowed', 'high'),
    finding('GHSA-low', 'low', 'zod'),
  ];
  const v = judge(findings, policy, '2026-12-02');

  it('one line per finding with its tag; the closing count', () => {
    expect(findingLines(findings, v)).toEqual([
      {
        tag: 'FAIL',
        line: 'critical GHSA-fail              koa@3.3.0 (backend/bun.lock) advisory GHSA-fail',
      },
      {
        tag: 'allow',
        line: 'high     GHSA-allowed           koa@3.3.0 (backend/bun.lock) advisory GHSA-allowed',
      },
      {
        tag: 'below',
        line: 'low      GHSA-low               zod@3.3.0 (backend/bun.lock) advisory GHSA-low',
      },
    ]);
    expect(summaryLine(findings, v, policy, null)).toBe(
      'scan: 3 findings (0 unknown, 1 low, 0 medium, 1 high, 1 critical); 1 at or above high not allow-listed, 1 allow-listed',
    );
    expect(summaryLine([], judge([], policy, '2026-12-02'), policy, 'no data')).toBe(
      'scan (no vulnerability data: Debian check only): 0 findings (0 unknown, 0 low, 0 medium, 0 high, 0 critical); 0 at or above high not allow-listed, 0 allow-listed',
    );
  });

  it('exit: 1 on a failing finding even without data; 3 without data unless allowed; else 0', () => {
    expect(scanExitCode(1, 'no data', true)).toBe(1);
    expect(scanExitCode(0, 'no data', false)).toBe(3);
    expect(scanExitCode(0, 'no data', true)).toBe(0);
    expect(scanExitCode(0, null, false)).toBe(0);
  });
});
