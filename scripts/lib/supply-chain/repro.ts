// Pure comparison of two image builds of the same commit (no I/O here). What is compared, from
// strongest to weakest: the layer digests (diff_ids), the compiled binary's sha256, and the file
// tree (path, mode, owner, sha256 of each regular file, link target) of `docker export`.

export type BuildFacts = {
  image: string;
  /** RootFS.Layers: sha256 of each uncompressed layer tar. */
  layers: string[];
  /** sha256 of /app/server. */
  binarySha256: string;
  /** One line per entry of the exported file tree, sorted: "mode uid:gid sha256|->target path". */
  tree: string[];
  /** The image id (config digest): differs between builds with the classic builder (timestamps). */
  id: string;
};

export type ReproReport = {
  layersEqual: boolean;
  binaryEqual: boolean;
  treeEqual: boolean;
  idEqual: boolean;
  /** Entries present in one tree and not the other, at most 20. */
  treeDiff: string[];
  ok: boolean;
};

export function compareBuilds(a: BuildFacts, b: BuildFacts): ReproReport {
  const setA = new Set(a.tree);
  const setB = new Set(b.tree);
  const treeDiff = [
    ...a.tree.filter((l) => !setB.has(l)).map((l) => `- ${l}`),
    ...b.tree.filter((l) => !setA.has(l)).map((l) => `+ ${l}`),
  ].slice(0, 20);
  const layersEqual = a.layers.length > 0 && JSON.stringify(a.layers) === JSON.stringify(b.layers);
  const binaryEqual = /^[0-9a-f]{64}$/.test(a.binarySha256) && a.binarySha256 === b.binarySha256;
  const treeEqual = a.tree.length > 0 && treeDiff.length === 0 && a.tree.length === b.tree.length;
  return {
    layersEqual,
    binaryEqual,
    treeEqual,
    idEqual: a.id === b.id,
    treeDiff,
    // The image id is not required: the classic builder writes build times into the config.
    ok: layersEqual && binaryEqual && treeEqual,
  };
}

/**
 * One line per tar entry from `tar -tv --full-time`-free data: the caller hashes regular files
 * itself. Directories and links carry no hash. Sorted so the order of the export does not matter.
 */
export function treeLine(e: {
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: number;
  uid: number;
  gid: number;
  sha256?: string;
  linkTarget?: string;
}): string {
  const what = e.type === 'file' ? e.sha256 : e.type === 'symlink' ? `->${e.linkTarget}` : e.type;
  return `${(e.mode & 0o7777).toString(8).padStart(4, '0')} ${e.uid}:${e.gid} ${what} ${e.path.replace(/^\.?\/?/, '/')}`;
}

/** The image's own mount points and runtime files that Docker adds to every export. */
export const DOCKER_EXPORT_NOISE = new Set([
  '/.dockerenv',
  '/etc/hostname',
  '/etc/hosts',
  '/etc/resolv.conf',
]);

export function reportLines(r: ReproReport, a: BuildFacts, b: BuildFacts): string[] {
  const mark = (ok: boolean) => (ok ? 'same' : 'DIFFERENT');
  return [
    `layers (diff_ids): ${mark(r.layersEqual)} ${a.layers.map((l) => l.slice(7, 19)).join(',')}${r.layersEqual ? '' : ` vs ${b.layers.map((l) => l.slice(7, 19)).join(',')}`}`,
    `binary /app/server sha256: ${mark(r.binaryEqual)} ${a.binarySha256}${r.binaryEqual ? '' : ` vs ${b.binarySha256}`}`,
    `file tree (${a.tree.length} entries, sha256 per file): ${mark(r.treeEqual)}`,
    ...r.treeDiff.map((l) => `  ${l}`),
    `image id: ${r.idEqual ? 'same' : 'differs (expected: the classic builder stamps the config with build times)'}`,
  ];
}
