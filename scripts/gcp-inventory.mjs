#!/usr/bin/env node
// Writes inventory/gcp.yml from the Terraform outputs of terraform/ (see terraform/README.md).
//   node scripts/gcp-inventory.mjs --key ~/.ssh/e2m_ed25519 [--outputs FILE] [--out FILE] [--dry-run]
// Without --outputs it runs `terraform -chdir=terraform output -json`. The work lives in
// lib/gcp-inventory/cli.ts, the command line and its --help in lib/gcp-inventory/spec.ts.
// Exit code: 0 written, 1 failed, 2 usage.
import { resolve } from 'node:path';
import { runCli } from './lib/cli/run.ts';
import { gcpInventoryCli } from './lib/gcp-inventory/cli.ts';

await runCli(gcpInventoryCli, process.argv, resolve(import.meta.dirname, '..'));
