#!/usr/bin/env zx
// Supply chain checks (docs/supply-chain.md): `repro` builds the image twice from the commit and
// compares; `sbom` writes a release's CycloneDX SBOM beside its release record; `scan` checks the
// lockfiles and the image for known vulnerabilities against .ci/vuln-allowlist.yml. The commands
// live in lib/supply-chain/cli.ts, the command line and its --help in lib/supply-chain/spec.ts.
// Exit code: 0 ok, 1 findings or a difference, 2 usage, 3 no vulnerability data.
import { resolve } from 'node:path';
import { runCli } from './lib/cli/run.ts';
import { supplyChainCli } from './lib/supply-chain/cli.ts';

await runCli(supplyChainCli, process.argv, resolve(import.meta.dirname, '..'));
