// The deploy's image archive (local I/O): `docker save`, less the layer files the VM already has
// (layers.ts decides which), then zstd. The VM's `docker load` finds those layers by chain id.
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import type { Runner } from '../runner.ts';
import { sh } from './commands.ts';
import { filesToOmit } from './layers.ts';

export interface Shipped {
  /** The compressed archive's size: what the upload sends. */
  bytes: number;
  layers: number;
  /** Layers left out because the VM has them. */
  omitted: number;
}

export async function saveForVm(
  local: Runner,
  s: { image: string; to: string; vmChains: readonly string[] },
): Promise<Shipped> {
  const dir = await mkdtemp(join(tmpdir(), 'e2m-save-'));
  try {
    const tree = join(dir, 'image');
    await mkdir(tree);
    await local.run(sh('docker save "$1" | tar -x -C "$2"', s.image, tree));
    const read = async (f: string) => JSON.parse(await readFile(inside(tree, f), 'utf8'));
    const manifest = await read('manifest.json');
    if (!Array.isArray(manifest) || manifest.length !== 1 || !Array.isArray(manifest[0].Layers))
      throw new Error(`docker save ${s.image}: manifest.json does not hold exactly one image`);
    const layerFiles: string[] = manifest[0].Layers;
    const diffIds: string[] = (await read(manifest[0].Config)).rootfs?.diff_ids ?? [];
    const omit = filesToOmit({ layerFiles, diffIds }, s.vmChains);
    for (const f of omit) await rm(inside(tree, f));
    await local.run(sh('tar -c -C "$1" . | zstd -q -T0 -3 -f -o "$2"', tree, s.to));
    return { bytes: (await stat(s.to)).size, layers: layerFiles.length, omitted: omit.length };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A path named by the archive, refused if it would leave it. */
function inside(tree: string, f: string): string {
  const p = resolve(tree, f);
  if (relative(tree, p).startsWith('..')) throw new Error(`docker save: a path outside the archive: ${f}`);
  return p;
}
