import { describe, expect, it } from 'vitest';
import { chainIds, filesToOmit, parseVmLayers } from './layers.ts';

// A real image's diff ids and the chain ids Docker 20.10 stored them under (its layerdb).
const BASE = 'sha256:d832c6999c70ba0b64718f83581cb0e4e2f2bf6b6f60f67bb0ec8c70d7ae84ab';
const APP = 'sha256:b71d37e28fd403620b93c4ef8975a9c39dfde40a2b14e5ab0660177074198c5c';
const APP_CHAIN = 'sha256:33d9e7f43b723e7d1dc60843e7cc233333978518305248cb95f0f8b9f1331dcb';
const NEW = `sha256:${'e'.repeat(64)}`;

describe('layers the VM already has', () => {
  it('computes chain ids as Docker does', () => {
    expect(chainIds([BASE, APP])).toEqual([BASE, APP_CHAIN]);
    expect(chainIds([])).toEqual([]);
  });

  it("reads the VM's images into their chain ids, once each", () => {
    const text = `${JSON.stringify([BASE, APP])}\n${JSON.stringify([BASE])}\nnull\n\n`;
    expect(parseVmLayers(text).sort()).toEqual([BASE, APP_CHAIN].sort());
    expect(() => parseVmLayers('["sha256:xyz"]')).toThrow(/not a list of sha256 diff ids/);
  });

  it('leaves out only the files whose whole chain the VM has', () => {
    const image = { layerFiles: ['a/layer.tar', 'b/layer.tar', 'c/layer.tar'], diffIds: [BASE, APP, NEW] };
    expect(filesToOmit(image, [BASE, APP_CHAIN])).toEqual(['a/layer.tar', 'b/layer.tar']);
    // The same app layer on another base is another chain: it ships.
    expect(filesToOmit({ layerFiles: ['x', 'b'], diffIds: [NEW, APP] }, [BASE, APP_CHAIN])).toEqual([]);
    expect(filesToOmit(image, [])).toEqual([]);
  });

  it('keeps a file that also stands for a layer the VM lacks', () => {
    const image = { layerFiles: ['blobs/1', 'blobs/2', 'blobs/1'], diffIds: [BASE, APP, BASE] };
    const chains = chainIds(image.diffIds);
    // blobs/1 is also the third layer, whose chain the VM lacks: it stays; blobs/2 goes.
    expect(filesToOmit(image, chains.slice(0, 2))).toEqual(['blobs/2']);
    expect(filesToOmit(image, chains)).toEqual(['blobs/1', 'blobs/2']);
  });

  it('refuses an archive whose files and diff ids disagree', () => {
    expect(() => filesToOmit({ layerFiles: ['a'], diffIds: [] }, [])).toThrow(/1 layer files but 0 diff ids/);
  });
});
