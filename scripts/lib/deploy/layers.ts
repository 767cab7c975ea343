// Which of an image's layers the VM already has, so a deploy ships only the others (pure).
// `docker load` looks each layer up by its chain id before it reads the layer's file, and skips
// the file when the chain is there (moby image/tarexport/load.go), so an archive without those
// files loads. A chain id names a layer together with every layer below it, as Docker computes
// it (the OCI image spec's ChainID): the first is its diff id, each next one
// sha256("<chain below> <diff id>").
import { createHash } from 'node:crypto';

export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) {
    const below = out.at(-1);
    out.push(below ? `sha256:${createHash('sha256').update(`${below} ${d}`).digest('hex')}` : d);
  }
  return out;
}

/** The VM's `docker image inspect --format '{{json .RootFS.Layers}}'` lines -> its chain ids. */
export function parseVmLayers(text: string): string[] {
  const chains = new Set<string>();
  for (const line of text.split('\n')) {
    const l = line.trim();
    if (!l || l === 'null') continue;
    const diffIds = JSON.parse(l) as unknown;
    if (
      !Array.isArray(diffIds) ||
      !diffIds.every((d) => typeof d === 'string' && /^sha256:[0-9a-f]{64}$/.test(d))
    )
      throw new Error(`the VM's image layers: not a list of sha256 diff ids: ${l.slice(0, 80)}`);
    for (const c of chainIds(diffIds)) chains.add(c);
  }
  return [...chains];
}

/** `docker save`'s manifest.json entry and its config's diff ids, as the archive holds them. */
export interface SavedImage {
  /** Each layer's file in the archive, bottom first (manifest.json's Layers). */
  layerFiles: string[];
  /** The config's rootfs.diff_ids, in the same order. */
  diffIds: string[];
}

/**
 * The layer files to leave out: those whose chain the VM has. A file that also stands for a
 * layer the VM lacks (the same blob twice in one image) stays.
 */
export function filesToOmit(image: SavedImage, vmChains: Iterable<string>): string[] {
  if (image.layerFiles.length !== image.diffIds.length)
    throw new Error(
      `docker save: ${image.layerFiles.length} layer files but ${image.diffIds.length} diff ids in the config`,
    );
  const have = new Set(vmChains);
  const chains = chainIds(image.diffIds);
  const needed = new Set(image.layerFiles.filter((_, i) => !have.has(chains[i])));
  return [...new Set(image.layerFiles.filter((f) => !needed.has(f)))];
}
