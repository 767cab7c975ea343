#!/usr/bin/env node
// Cost report of a Terraform plan against the committed price table (terraform/README.md).
//   terraform -chdir=terraform plan -var-file=envs/dev.tfvars -out=dev.tfplan
//   npm run infra:cost -- terraform/dev.tfplan        (or a saved `terraform show -json` file, or - for stdin)
// Exit 0: free, free tier or known charges only. Exit 1: something unexpected would cost money.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { $ } from 'zx';
import { costReport, formatReport } from './lib/infra-cost.mjs';

const usage = `Usage: npm run infra:cost -- PLAN [--prices FILE] [--json]
  PLAN       a plan file (read with terraform show -json), a JSON file from terraform show -json, or - for stdin
  --prices   price table (default terraform/prices.json)
  --json     print the report as JSON`;

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      prices: { type: 'string', default: resolve(root, 'terraform/prices.json') },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
} catch (e) {
  console.error(`${e.message}\n${usage}`);
  process.exit(2);
}
const { values: args, positionals } = parsed;
if (args.help) {
  console.log(usage);
  process.exit(0);
}
if (positionals.length !== 1) {
  console.error(usage);
  process.exit(2);
}

async function readPlan(path) {
  if (path === '-') return readFileSync(0, 'utf8');
  if (path.endsWith('.json')) return readFileSync(path, 'utf8');
  $.verbose = false;
  const tf = process.env.TERRAFORM ?? 'terraform';
  // Use the CLI config terraform/install-tools.sh writes (local provider mirror) when it exists.
  const cache = process.env.E2M_CACHE ?? join(homedir(), '.cache/e2-micro');
  const cliConfig = join(cache, 'terraform/terraformrc');
  if (existsSync(cliConfig)) $.env = { ...process.env, TF_CLI_CONFIG_FILE: cliConfig };
  const planDir = dirname(resolve(path));
  return (await $`${tf} -chdir=${planDir} show -json ${resolve(path)}`).stdout;
}

try {
  const plan = JSON.parse(await readPlan(positionals[0]));
  const prices = JSON.parse(readFileSync(args.prices, 'utf8'));
  const report = costReport(plan, prices);
  process.stdout.write(
    args.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report, prices.currency),
  );
  process.exit(report.ok ? 0 : 1);
} catch (e) {
  console.error(`infra-cost: ${String(e.stderr || e.message || e).trim()}`);
  process.exit(2);
}
