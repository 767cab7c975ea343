#!/usr/bin/env node
// Cost report of a Terraform plan against terraform/prices.json (terraform/README.md), priced in
// scripts/lib/cost/ per resource family; the command line and its --help are in lib/cost/spec.ts.
// Exit 0: free, free tier or known charges only; 1: unexpected cost; 2: usage or unreadable input.
//   terraform -chdir=terraform plan -var-file=envs/dev.tfvars -out=dev.tfplan
//   npm run infra:cost -- terraform/dev.tfplan        (or a saved `terraform show -json` file, or - for stdin)
import { resolve } from 'node:path';
import { runCli } from './lib/cli/run.ts';
import { infraCostCli } from './lib/cost/cli.ts';

await runCli(infraCostCli, process.argv, resolve(import.meta.dirname, '..'));
