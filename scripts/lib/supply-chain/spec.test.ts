// The supply chain entry's --help, written from its table: the very text the entry printed
// before its command line became a table, line for line.
import { describe, expect, it } from 'vitest';
import { decide, mainHelp } from '../cli/args.ts';
import { supplyChainSpec } from './spec.ts';

describe('supply-chain --help', () => {
  it('is the help the entry has always printed', () => {
    expect(mainHelp(supplyChainSpec).split('\n')).toEqual([
      'Usage: npm run scan | npm run sbom | zx scripts/supply-chain.mjs <command> [options]',
      '',
      'Commands:',
      '  repro               build the image twice from HEAD (no cache) and compare layers, binary, files',
      '  sbom                write the CycloneDX SBOM of an image to .releases/<release>/sbom.cdx.json',
      '  scan                scan package-lock.json, backend/bun.lock and the image; exit 1 on a finding',
      '                      at or above fail_at in .ci/vuln-allowlist.yml that is not allow-listed',
      '',
      'Options:',
      '  --image TAG         image for sbom/scan (default: build one with npm run image -- build)',
      '  --out DIR           sbom: releases directory (default .releases); scan/repro: report directory',
      '  --db DIR            scan: use this OSV database directory (osv-scanner/<ecosystem>/all.zip), offline',
      '  --allow-no-data     scan: where no vulnerability data can be had, say so and exit 0 (else exit 3)',
      '  --policy FILE       scan: allow-list and severity (default .ci/vuln-allowlist.yml)',
      "  --releases-dir DIR  scan: where the image's SBOM is written (default .releases)",
      '  --keep              repro: keep the two images (e2m/backend:repro-a, -b)',
      '  --json              machine-readable result on the last line',
      '  -h, --help          this help',
      '',
      'Exit codes: 0 ok, 1 findings (scan) or a difference (repro), 2 usage, 3 no vulnerability data.',
    ]);
  });

  it('after a command it is the same page; an unknown option is a usage error', () => {
    for (const c of ['repro', 'sbom', 'scan'])
      expect(decide(supplyChainSpec, [c, '-h'])).toEqual({
        kind: 'help',
        text: mainHelp(supplyChainSpec),
        code: 0,
      });
    expect(decide(supplyChainSpec, ['scan', '--alow-no-data'])).toMatchObject({
      kind: 'usage',
      message: 'unknown option --alow-no-data (see --help)',
    });
    expect(
      decide(supplyChainSpec, ['scan', '--image', 'e2m/backend:x', '--allow-no-data', '--json']),
    ).toMatchObject({
      kind: 'run',
      json: true,
      invocation: { command: 'scan', values: { image: 'e2m/backend:x', 'allow-no-data': true } },
    });
  });
});
