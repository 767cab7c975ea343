import { describe, expect, it } from 'vitest';
import { type BuildFacts, compareBuilds, reportLines, treeLine } from './repro.ts';

const build = (over: Partial<BuildFacts> = {}): BuildFacts => ({
  image: 'a',
  id: 'sha256:1',
  layers: ['sha256:aaaaaaaaaaaaaaaaaaaa', 'sha256:bbbbbbbbbbbbbbbbbbbbbb'],
  binarySha256: 'c'.repeat(64),
  tree: ['0755 0:0 dir /app', `0755 0:0 ${'c'.repeat(64)} /app/server`],
  ...over,
});

describe('compareBuilds', () => {
  it('passes on equal layers, binary and tree even when the image ids differ', () => {
    const r = compareBuilds(build(), build({ image: 'b', id: 'sha256:2' }));
    expect(r).toEqual({
      layersEqual: true,
      binaryEqual: true,
      treeEqual: true,
      idEqual: false,
      treeDiff: [],
      ok: true,
    });
    expect(reportLines(r, build(), build()).at(-1)).toContain('differs (expected');
  });
  it('fails on a different layer, naming the files that differ', () => {
    const b = build({
      layers: ['sha256:aaaaaaaaaaaaaaaaaaaa', 'sha256:dddddddddddddddd'],
      tree: ['0755 0:0 dir /app', `0755 0:0 ${'e'.repeat(64)} /app/server`],
    });
    const r = compareBuilds(build(), b);
    expect(r.ok).toBe(false);
    expect(r.layersEqual).toBe(false);
    expect(r.treeDiff).toEqual([
      `- 0755 0:0 ${'c'.repeat(64)} /app/server`,
      `+ 0755 0:0 ${'e'.repeat(64)} /app/server`,
    ]);
  });
  it('never passes on empty facts', () => {
    expect(
      compareBuilds(
        build({ layers: [], tree: [], binarySha256: '' }),
        build({ layers: [], tree: [], binarySha256: '' }),
      ).ok,
    ).toBe(false);
  });
});

describe('treeLine', () => {
  it('writes mode, owner, content and path', () => {
    expect(
      treeLine({ path: '/etc/passwd', type: 'file', mode: 0o100644, uid: 0, gid: 0, sha256: 'ab' }),
    ).toBe('0644 0:0 ab /etc/passwd');
    expect(
      treeLine({ path: 'lib64', type: 'symlink', mode: 0o120777, uid: 0, gid: 0, linkTarget: 'usr/lib64' }),
    ).toBe('0777 0:0 ->usr/lib64 /lib64');
    expect(treeLine({ path: '/tmp', type: 'dir', mode: 0o41777, uid: 0, gid: 0 })).toBe('1777 0:0 dir /tmp');
  });
});
