import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  compareDebianVersions,
  debianFindings,
  type Finding,
  findingsFromOsv,
  judge,
  levelOf,
  PolicyError,
  parsePolicy,
} from './findings.ts';

const osvJson = {
  results: [
    {
      source: { path: '/repo/backend/bun.lock', type: 'lockfile' },
      packages: [
        {
          package: { name: 'koa', version: '3.3.0', ecosystem: 'npm' },
          vulnerabilities: [
            {
              id: 'GHSA-aaaa-bbbb-cccc',
              summary: 'header injection',
              database_specific: { severity: 'HIGH' },
            },
          ],
          groups: [
            {
              ids: ['GHSA-aaaa-bbbb-cccc'],
              aliases: ['CVE-2099-1', 'GHSA-aaaa-bbbb-cccc'],
              max_severity: '',
            },
          ],
        },
        {
          package: { name: 'zod', version: '4.6.7', ecosystem: 'npm' },
          vulnerabilities: [{ id: 'GHSA-zzzz-zzzz-zzzz', summary: 'slow regex' }],
          groups: [{ ids: ['GHSA-zzzz-zzzz-zzzz'], max_severity: '5.3' }],
        },
      ],
    },
  ],
};

const finding = (over: Partial<Finding>): Finding => ({
  id: 'GHSA-1',
  aliases: ['GHSA-1'],
  package: 'p',
  version: '1.0.0',
  ecosystem: 'npm',
  source: 'backend/bun.lock',
  level: 'high',
  score: '7.5',
  summary: '',
  ...over,
});

describe('findingsFromOsv', () => {
  it('makes one finding per alias group, with a level from the score or GHSA word', () => {
    expect(findingsFromOsv(osvJson, '/repo')).toEqual([
      {
        id: 'GHSA-aaaa-bbbb-cccc',
        aliases: ['CVE-2099-1', 'GHSA-aaaa-bbbb-cccc'],
        package: 'koa',
        version: '3.3.0',
        ecosystem: 'npm',
        source: 'backend/bun.lock',
        level: 'high',
        score: '',
        summary: 'header injection',
      },
      expect.objectContaining({ id: 'GHSA-zzzz-zzzz-zzzz', level: 'medium', score: '5.3' }),
    ]);
  });

  it('ranks CVSS scores as CVSS v3 does', () => {
    expect(['9.8', '7.0', '6.9', '4.0', '0.1', '0', ''].map((s) => levelOf(s))).toEqual([
      'critical',
      'high',
      'medium',
      'medium',
      'low',
      'unknown',
      'unknown',
    ]);
    expect(levelOf('', 'MODERATE')).toBe('medium');
  });
});

describe('parsePolicy', () => {
  const ok = { id: 'GHSA-1', reason: 'not reachable: we never call the affected API', expires: '2027-01-01' };
  it('reads the level and the entries', () => {
    expect(parsePolicy({ fail_at: 'high', allow: [ok] })).toEqual({
      failAt: 'high',
      unknownAs: 'high',
      allow: [ok],
    });
  });
  it('names what is wrong', () => {
    expect(() => parsePolicy({ fail_at: 'severe' })).toThrow(
      new PolicyError('fail_at must be one of low, medium, high, critical; got "severe"'),
    );
    expect(() => parsePolicy({ fail_at: 'high', allow: [{ ...ok, reason: 'meh' }] })).toThrow(
      'allow[0] (GHSA-1).reason must say why',
    );
    expect(() => parsePolicy({ fail_at: 'high', allow: [{ ...ok, expires: 'never' }] })).toThrow(
      'allow[0] (GHSA-1).expires must be a date',
    );
  });
});

describe('judge', () => {
  const policy = parsePolicy({
    fail_at: 'high',
    unknown_as: 'high',
    allow: [
      {
        id: 'CVE-2099-1',
        package: 'koa',
        reason: 'only through ctx.redirect, which we never call',
        expires: '2026-12-31',
      },
      { id: 'GHSA-old', reason: 'accepted for the old release while it lasted', expires: '2026-01-01' },
    ],
  });
  it('fails at or above the level, allows listed ids (by alias too) until they expire', () => {
    const koa = finding({ id: 'GHSA-aaaa', aliases: ['CVE-2099-1', 'GHSA-aaaa'], package: 'koa' });
    const old = finding({ id: 'GHSA-old', aliases: ['GHSA-old'] });
    const low = finding({ id: 'GHSA-low', level: 'medium' });
    const unknown = finding({ id: 'GHSA-unk', level: 'unknown' });
    const v = judge([koa, old, low, unknown], policy, '2026-11-23');
    expect(v.allowed.map((a) => a.finding.id)).toEqual(['GHSA-aaaa']);
    expect(v.failing.map((f) => f.id)).toEqual(['GHSA-old', 'GHSA-unk']);
    expect(v.below.map((f) => f.id)).toEqual(['GHSA-low']);
    expect(v.expired.map((e) => e.id)).toEqual(['GHSA-old']);
    expect(judge([koa], policy, '2027-01-01').failing).toHaveLength(1);
  });
  it('an entry for one package does not cover another', () => {
    const other = finding({ id: 'GHSA-aaaa', aliases: ['CVE-2099-1'], package: 'not-koa' });
    expect(judge([other], policy, '2026-11-23').failing).toHaveLength(1);
  });
});

describe('Debian', () => {
  it('orders versions as dpkg does', () => {
    const pairs: [string, string][] = [
      ['2.36-9+deb12u14', '2.36-9+deb12u9'],
      ['20250419~deb12u2', '20250419'],
      ['1:1.0', '2.0'],
      ['1.0~rc1', '1.0'],
      ['1.0a', '1.0'],
      ['1.0-1', '1.0-1'],
      ['2.36-9+deb12u10', '2.36-9'],
    ];
    for (const [a, b] of pairs) {
      const dpkg = (op: string) => {
        try {
          execFileSync('dpkg', ['--compare-versions', a, op, b]);
          return true;
        } catch {
          return false;
        }
      };
      const ours = Math.sign(compareDebianVersions(a, b));
      expect(ours, `${a} vs ${b}`).toBe(dpkg('gt') ? 1 : dpkg('lt') ? -1 : 0);
    }
  });

  it('reports an image package older than what apt offers', () => {
    const f = debianFindings(
      [
        { name: 'libc6', version: '2.36-9+deb12u9' },
        { name: 'ca-certificates', version: '20230311' },
      ],
      {
        libc6: { version: '2.36-9+deb12u14', origin: 'Debian bookworm-security' },
        'ca-certificates': { version: '20230311', origin: 'Debian bookworm' },
      },
      'high',
    );
    expect(f).toEqual([
      expect.objectContaining({
        id: 'DEBIAN-UPDATE-libc6-2.36-9+deb12u14',
        package: 'libc6',
        level: 'high',
        source: 'image',
      }),
    ]);
  });
});
