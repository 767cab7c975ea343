import { createHash } from 'node:crypto';

// Pure: lockfiles and the image's facts in, a CycloneDX 1.5 SBOM out (no I/O, no clock). The
// image's SBOM lists what really ships: the npm packages that `bun build` bundles
// (production closure of backend/bun.lock), the Bun runtime in its own layer, and the Debian
// packages of the runtime base. Deterministic: the same inputs give the same bytes.

export type Component = {
  name: string;
  version: string;
  purl: string;
  type: 'library' | 'application' | 'framework';
  hashes?: { alg: 'SHA-512' | 'SHA-256'; content: string }[];
  dependsOn?: string[];
};

export const npmPurl = (name: string, version: string) =>
  `pkg:npm/${name.startsWith('@') ? `%40${name.slice(1)}` : name}@${version}`;

export const debPurl = (name: string, version: string) =>
  `pkg:deb/debian/${name}@${encodeURIComponent(version)}?arch=amd64&distro=debian-12`;

const sriToHex = (sri: string) => {
  const m = /^sha512-(.+)$/.exec(sri ?? '');
  return m ? [{ alg: 'SHA-512' as const, content: Buffer.from(m[1], 'base64').toString('hex') }] : undefined;
};

/** bun.lock is JSON with trailing commas. */
export function parseBunLock(text: string): {
  workspace: Record<string, Record<string, string>>;
  packages: Record<string, [string, string, Record<string, Record<string, string>>, string]>;
} {
  const lock = JSON.parse(text.replace(/,(\s*[}\]])/g, '$1'));
  return { workspace: lock.workspaces?.[''] ?? {}, packages: lock.packages ?? {} };
}

/**
 * The packages reachable from the workspace's dependencies (not devDependencies): what the
 * compiled binary can contain. Nested keys ("parent/child") win over hoisted ones, as bun
 * resolves them.
 */
export function bunProductionComponents(text: string): Component[] {
  const { workspace, packages } = parseBunLock(text);
  const resolve = (from: string, dep: string): string | undefined => {
    let scope = from;
    while (scope) {
      if (packages[`${scope}/${dep}`]) return `${scope}/${dep}`;
      const cut = scope.lastIndexOf('/');
      // "@scope/name" is one package: step over the scope's slash too.
      const parent = cut > 0 ? scope.slice(0, cut) : '';
      scope = parent.startsWith('@') && !parent.includes('/') ? '' : parent;
    }
    return packages[dep] ? dep : undefined;
  };
  const seen = new Map<string, string[]>();
  const queue = Object.keys({ ...workspace.dependencies, ...workspace.optionalDependencies });
  const roots = queue.map((d) => resolve('', d)).filter((k): k is string => !!k);
  const stack = [...roots];
  while (stack.length) {
    const key = stack.pop() as string;
    if (seen.has(key)) continue;
    const meta = packages[key][2] ?? {};
    const deps = Object.keys({ ...meta.dependencies, ...meta.optionalDependencies, ...meta.peerDependencies })
      .map((d) => resolve(key, d))
      .filter((k): k is string => !!k);
    seen.set(key, deps);
    stack.push(...deps);
  }
  const idOf = (key: string) => {
    const spec = packages[key][0];
    const at = spec.lastIndexOf('@');
    return { name: spec.slice(0, at), version: spec.slice(at + 1) };
  };
  const byKey = new Map([...seen.keys()].map((k) => [k, idOf(k)]));
  const components = new Map<string, Component>();
  for (const [key, deps] of seen) {
    const { name, version } = byKey.get(key) as { name: string; version: string };
    const purl = npmPurl(name, version);
    const prev = components.get(purl);
    const dependsOn = [
      ...new Set([
        ...(prev?.dependsOn ?? []),
        ...deps.map((d) => npmPurl(byKey.get(d)?.name ?? d, byKey.get(d)?.version ?? '?')),
      ]),
    ].sort();
    components.set(purl, {
      name,
      version,
      purl,
      type: 'library',
      hashes: sriToHex(packages[key][3]),
      ...(dependsOn.length ? { dependsOn } : {}),
    });
  }
  return [...components.values()].sort((a, b) => a.purl.localeCompare(b.purl));
}

/** package-lock.json v3: every package, dev ones marked (the root lockfile is tooling only). */
export function npmLockComponents(text: string): (Component & { dev: boolean })[] {
  const lock = JSON.parse(text);
  const out = new Map<string, Component & { dev: boolean }>();
  for (const [path, p] of Object.entries<Record<string, unknown>>(lock.packages ?? {})) {
    if (!path || p.link) continue;
    const name = (p.name as string) ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const version = p.version as string;
    if (!version) continue;
    const purl = npmPurl(name, version);
    out.set(purl, {
      name,
      version,
      purl,
      type: 'library',
      hashes: sriToHex(p.integrity as string),
      dev: !!p.dev,
    });
  }
  return [...out.values()].sort((a, b) => a.purl.localeCompare(b.purl));
}

export type ImageFacts = {
  image: string;
  release: string;
  gitSha: string;
  /** sha256 of /app/server. */
  binarySha256: string;
  bunVersion: string;
  debian: { name: string; version: string }[];
  /** ISO time of the commit (SOURCE_DATE_EPOCH), so the SBOM is as reproducible as the image. */
  timestamp: string;
};

/** A UUID made from content, so the same release always gets the same serial number. */
const contentUuid = (s: string) => {
  const h = createHash('sha256').update(s).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

export function imageSbom(facts: ImageFacts, npm: Component[], toolName = 'e2-micro supply-chain'): object {
  const app = `pkg:oci/backend@sha256:${facts.binarySha256}`;
  const bun: Component = {
    name: 'bun',
    version: facts.bunVersion,
    purl: npmPurl('bun', facts.bunVersion),
    type: 'framework',
  };
  const debs: Component[] = facts.debian.map((d) => ({
    name: d.name,
    version: d.version,
    purl: debPurl(d.name, d.version),
    type: 'library',
  }));
  const all = [...npm, bun, ...debs];
  const top = new Set(npm.map((c) => c.purl));
  for (const c of npm) for (const d of c.dependsOn ?? []) top.delete(d);
  const body = {
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    version: 1,
    metadata: {
      timestamp: facts.timestamp,
      tools: { components: [{ type: 'application', name: toolName }] },
      component: {
        type: 'container',
        'bom-ref': app,
        name: facts.image,
        version: facts.release,
        hashes: [{ alg: 'SHA-256', content: facts.binarySha256 }],
        properties: [
          { name: 'git:commit', value: facts.gitSha },
          { name: 'binary', value: '/app/server (bun build, one bundled file run by Bun)' },
        ],
      },
    },
    components: all.map((c) => ({
      type: c.type,
      'bom-ref': c.purl,
      name: c.name,
      version: c.version,
      purl: c.purl,
      ...(c.hashes ? { hashes: c.hashes } : {}),
    })),
    dependencies: [
      { ref: app, dependsOn: [...top, bun.purl, ...debs.map((d) => d.purl)].sort() },
      ...npm.filter((c) => c.dependsOn?.length).map((c) => ({ ref: c.purl, dependsOn: c.dependsOn })),
    ],
  };
  return { ...body, serialNumber: `urn:uuid:${contentUuid(JSON.stringify(body))}` };
}

/** Where a release's SBOM lives: beside its release record (the deploy writes the rest). */
export const releaseSbomPath = (releasesDir: string, release: string) =>
  `${releasesDir}/${release}/sbom.cdx.json`;
