// The supply chain entry's command line (scripts/supply-chain.mjs): its options and commands, from
// which the parser reads argv and --help is written (lib/cli/args.ts). Every command's help is the
// main help: the option list says which command each option is for.
import { type CliSpec, helpOption } from '../cli/args.ts';

export const supplyChainSpec: CliSpec = {
  script: 'supply-chain.mjs',
  usage: 'npm run scan | npm run sbom | zx scripts/supply-chain.mjs <command> [options]',
  commandsTitle: 'Commands:',
  column: 22,
  optionsTitle: 'Options:',
  optionsColumn: 22,
  options: {
    image: {
      type: 'string',
      value: 'TAG',
      help: 'image for sbom/scan (default: build one with npm run image -- build)',
    },
    out: {
      type: 'string',
      value: 'DIR',
      help: 'sbom: releases directory (default .releases); scan/repro: report directory',
    },
    db: {
      type: 'string',
      value: 'DIR',
      help: 'scan: use this OSV database directory (osv-scanner/<ecosystem>/all.zip), offline',
    },
    'allow-no-data': {
      type: 'boolean',
      help: 'scan: where no vulnerability data can be had, say so and exit 0 (else exit 3)',
    },
    policy: {
      type: 'string',
      value: 'FILE',
      help: 'scan: allow-list and severity (default .ci/vuln-allowlist.yml)',
    },
    'releases-dir': {
      type: 'string',
      value: 'DIR',
      help: "scan: where the image's SBOM is written (default .releases)",
    },
    keep: { type: 'boolean', help: 'repro: keep the two images (e2m/backend:repro-a, -b)' },
    json: { type: 'boolean', help: 'machine-readable result on the last line' },
    help: { ...helpOption, help: 'this help' },
  },
  commands: {
    repro: {
      summary: 'build the image twice from HEAD (no cache) and compare layers, binary, files',
      options: ['keep', 'out', 'json'],
    },
    sbom: {
      summary: 'write the CycloneDX SBOM of an image to .releases/<release>/sbom.cdx.json',
      options: ['image', 'out', 'json'],
    },
    scan: {
      summary: `scan package-lock.json, backend/bun.lock and the image; exit 1 on a finding
at or above fail_at in .ci/vuln-allowlist.yml that is not allow-listed`,
      options: ['image', 'db', 'policy', 'releases-dir', 'allow-no-data', 'out', 'json'],
    },
  },
  footer: 'Exit codes: 0 ok, 1 findings (scan) or a difference (repro), 2 usage, 3 no vulnerability data.',
};
