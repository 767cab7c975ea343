#!/usr/bin/env node
// Cost report of a Terraform plan against terraform/prices.json (terraform/README.md), priced in
// scripts/lib/cost/ per resource family. Exit 0: free, free tier or known charges only; 1: unexpected cost.
//   terraform -chdir=terraform plan -var-file=envs/dev.tfvars -out=dev.tfplan
//   npm run infra:cost -- terraform/dev.tfplan        (or a saved `terraform show -json` file, or - for stdin)
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readPlan } from './lib/cost/read-plan.ts';
import { costReport, formatReport } from './lib/cost/report.ts';

const usage = `Usage: npm run infra:cost -- PLAN [--prices FILE] [--json]
  PLAN       a plan file (read with terraform show -json), a JSON file from terraform show -json, or - for stdin
  --prices   price table (default terraform/prices.json)
  --json     print the report as JSON`;
const options = {
  prices: { type: 'string', default: new URL('../terraform/prices.json', import.meta.url).pathname },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
};
let args;
try {
  args = parseArgs({ allowPositionals: true, options });
} catch (e) {
  console.error(`${e.message}\n${usage}`);
  process.exit(2);
}
const { values, positionals } = args;
if (values.help || positionals.length !== 1) {
  (values.help ? console.log : console.error)(usage);
  process.exit(values.help ? 0 : 2);
}
try {
  const prices = JSON.parse(readFileSync(values.prices, 'utf8'));
  const report = costReport(JSON.parse(await readPlan(positionals[0])), prices);
  process.stdout.write(
    values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report, prices.currency),
  );
  process.exit(report.ok ? 0 : 1);
} catch (e) {
  console.error(`infra-cost: ${String(e.stderr || e.message || e).trim()}`);
  process.exit(2);
}
