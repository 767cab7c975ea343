// Pure: scanner output and apt's answers in, findings out, judged against the configured severity
// and the allow-list (.ci/vuln-allowlist.yml). No I/O, no clock: "today" is passed in.

export const LEVELS = ['unknown', 'low', 'medium', 'high', 'critical'] as const;
export type Level = (typeof LEVELS)[number];

export type Finding = {
  /** The advisory's id (GHSA-..., CVE-..., or DEBIAN-UPDATE-<pkg>-<version> for apt). */
  id: string;
  aliases: string[];
  package: string;
  version: string;
  ecosystem: string;
  /** Where it was found: a lockfile path or "image". */
  source: string;
  level: Level;
  score: string;
  summary: string;
};

export type AllowEntry = { id: string; package?: string; reason: string; expires: string };
export type ScanPolicy = { failAt: Exclude<Level, 'unknown'>; unknownAs: Level; allow: AllowEntry[] };

export class PolicyError extends Error {}

/** Validates the allow-list file's parsed YAML; errors name the entry and the key. */
export function parsePolicy(doc: unknown): ScanPolicy {
  const d = (doc ?? {}) as Record<string, unknown>;
  const level = (key: string, value: unknown, allowUnknown: boolean): Level => {
    const ok = LEVELS.filter((l) => allowUnknown || l !== 'unknown');
    if (typeof value !== 'string' || !ok.includes(value as Level))
      throw new PolicyError(`${key} must be one of ${ok.join(', ')}; got ${JSON.stringify(value)}`);
    return value as Level;
  };
  const failAt = level('fail_at', d.fail_at, false) as ScanPolicy['failAt'];
  const unknownAs = level('unknown_as', d.unknown_as ?? 'high', true);
  if (d.allow !== undefined && d.allow !== null && !Array.isArray(d.allow))
    throw new PolicyError('allow must be a list');
  const allow = ((d.allow as unknown[]) ?? []).map((raw, i) => {
    const e = (raw ?? {}) as Record<string, unknown>;
    const where = `allow[${i}]`;
    if (typeof e.id !== 'string' || !e.id) throw new PolicyError(`${where}.id is required`);
    if (typeof e.reason !== 'string' || e.reason.trim().length < 20)
      throw new PolicyError(`${where} (${e.id}).reason must say why it is accepted (20 characters at least)`);
    if (typeof e.expires !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(e.expires))
      throw new PolicyError(`${where} (${e.id}).expires must be a date, YYYY-MM-DD`);
    if (e.package !== undefined && typeof e.package !== 'string')
      throw new PolicyError(`${where} (${e.id}).package must be a package name`);
    return {
      id: e.id,
      reason: e.reason.trim(),
      expires: e.expires,
      ...(e.package ? { package: e.package } : {}),
    };
  });
  return { failAt, unknownAs, allow };
}

/** CVSS base score (as osv-scanner's max_severity gives it) or GHSA's word -> level. */
export function levelOf(score: string, word?: string): Level {
  const n = Number.parseFloat(score);
  if (score !== '' && Number.isFinite(n)) {
    if (n >= 9) return 'critical';
    if (n >= 7) return 'high';
    if (n >= 4) return 'medium';
    if (n > 0) return 'low';
  }
  const w = (word ?? '').toLowerCase();
  if (w === 'moderate') return 'medium';
  if ((LEVELS as readonly string[]).includes(w)) return w as Level;
  return 'unknown';
}

type OsvJson = {
  results?: {
    source?: { path?: string };
    packages?: {
      package: { name: string; version: string; ecosystem: string };
      vulnerabilities?: { id: string; summary?: string; database_specific?: { severity?: string } }[];
      groups?: { ids: string[]; aliases?: string[]; max_severity?: string }[];
    }[];
  }[];
};

/** osv-scanner's --format json: one finding per group of aliases per package. */
export function findingsFromOsv(json: OsvJson, relativeTo = ''): Finding[] {
  const out: Finding[] = [];
  for (const r of json.results ?? []) {
    const path = r.source?.path ?? '?';
    const source =
      relativeTo && path.startsWith(relativeTo) ? path.slice(relativeTo.length).replace(/^\//, '') : path;
    for (const p of r.packages ?? []) {
      for (const g of p.groups ?? []) {
        const vulns = (p.vulnerabilities ?? []).filter((v) => g.ids.includes(v.id));
        const word = vulns.map((v) => v.database_specific?.severity).find(Boolean);
        out.push({
          id: g.ids[0],
          aliases: [...new Set([...(g.aliases ?? []), ...g.ids])].sort(),
          package: p.package.name,
          version: p.package.version,
          ecosystem: p.package.ecosystem,
          source,
          level: levelOf(g.max_severity ?? '', word),
          score: g.max_severity ?? '',
          summary: vulns[0]?.summary ?? '',
        });
      }
    }
  }
  return out;
}

/**
 * Debian packages in the image against the newest version apt offers (the security archive
 * included): an image older than a published update is a finding of the configured level.
 */
export function debianFindings(
  installed: { name: string; version: string }[],
  available: Record<string, { version: string; origin: string } | undefined>,
  level: Level,
): Finding[] {
  return installed.flatMap((p) => {
    const a = available[p.name];
    if (!a || compareDebianVersions(a.version, p.version) <= 0) return [];
    return [
      {
        id: `DEBIAN-UPDATE-${p.name}-${a.version}`,
        aliases: [],
        package: p.name,
        version: p.version,
        ecosystem: 'Debian:12',
        source: 'image',
        level,
        score: '',
        summary: `${a.origin} has ${a.version}; the image has ${p.version} (rebuild the base: npm run image -- base)`,
      },
    ];
  });
}

export type Verdict = {
  failing: Finding[];
  allowed: { finding: Finding; entry: AllowEntry }[];
  below: Finding[];
  expired: AllowEntry[];
  unused: AllowEntry[];
};

const rank = (l: Level) => LEVELS.indexOf(l);

export function judge(findings: Finding[], policy: ScanPolicy, today: string): Verdict {
  const live = policy.allow.filter((e) => e.expires >= today);
  const expired = policy.allow.filter((e) => e.expires < today);
  const used = new Set<AllowEntry>();
  const v: Verdict = { failing: [], allowed: [], below: [], expired, unused: [] };
  for (const f of findings) {
    const level = f.level === 'unknown' ? policy.unknownAs : f.level;
    const entry = live.find(
      (e) => (e.id === f.id || f.aliases.includes(e.id)) && (!e.package || e.package === f.package),
    );
    if (entry) {
      used.add(entry);
      v.allowed.push({ finding: f, entry });
    } else if (rank(level) >= rank(policy.failAt)) v.failing.push(f);
    else v.below.push(f);
  }
  v.unused = live.filter((e) => !used.has(e));
  return v;
}

/** dpkg's version order (epoch:upstream-revision, ~ before anything), as `dpkg --compare-versions`. */
export function compareDebianVersions(a: string, b: string): number {
  const split = (v: string) => {
    const colon = v.indexOf(':');
    const epoch = colon >= 0 ? Number(v.slice(0, colon)) : 0;
    const rest = colon >= 0 ? v.slice(colon + 1) : v;
    const dash = rest.lastIndexOf('-');
    return {
      epoch,
      upstream: dash >= 0 ? rest.slice(0, dash) : rest,
      revision: dash >= 0 ? rest.slice(dash + 1) : '0',
    };
  };
  const order = (c: string) => {
    if (c === '~') return -1;
    if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
    return c.charCodeAt(0) + 256;
  };
  const part = (x: string, y: string): number => {
    let i = 0;
    let j = 0;
    while (i < x.length || j < y.length) {
      while ((i < x.length && !/\d/.test(x[i])) || (j < y.length && !/\d/.test(y[j]))) {
        const cx = i < x.length && !/\d/.test(x[i]) ? order(x[i]) : 0;
        const cy = j < y.length && !/\d/.test(y[j]) ? order(y[j]) : 0;
        if (cx !== cy) return cx - cy;
        if (i < x.length && !/\d/.test(x[i])) i++;
        if (j < y.length && !/\d/.test(y[j])) j++;
      }
      let nx = '';
      let ny = '';
      while (i < x.length && /\d/.test(x[i])) nx += x[i++];
      while (j < y.length && /\d/.test(y[j])) ny += y[j++];
      const d = Number(nx || '0') - Number(ny || '0');
      if (d !== 0) return d;
    }
    return 0;
  };
  const A = split(a);
  const B = split(b);
  if (A.epoch !== B.epoch) return A.epoch - B.epoch;
  return part(A.upstream, B.upstream) || part(A.revision, B.revision);
}
