#!/usr/bin/env node
// Writes inventory/gcp.yml from the Terraform outputs of terraform/ (see terraform/README.md).
//   node scripts/gcp-inventory.mjs --key ~/.ssh/e2m_ed25519 [--outputs FILE] [--out FILE] [--dry-run]
// Without --outputs it runs `terraform -chdir=terraform output -json`.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { $ } from 'zx';
import { InventoryError, inventoryFromOutputs } from './lib/gcp-inventory.ts';
import { inventoryText } from './lib/inventory.ts';

const usage = `Usage: node scripts/gcp-inventory.mjs --key PRIVATE_KEY [--outputs FILE|-] [--out FILE] [--dry-run]
  --key       SSH private key of the admin user (written as ansible_ssh_private_key_file);
              not needed when platform = cloud_run and there is no VM
  --outputs   terraform output -json saved to a file ('-' for stdin); default: run terraform
  --out       inventory to write (default inventory/gcp.yml)
  --dry-run   print the inventory instead of writing it`;

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
let args;
try {
  ({ values: args } = parseArgs({
    options: {
      key: { type: 'string' },
      outputs: { type: 'string' },
      out: { type: 'string', default: 'inventory/gcp.yml' },
      'dry-run': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (e) {
  console.error(`${e.message}\n${usage}`);
  process.exit(2);
}
if (args.help) {
  console.log(usage);
  process.exit(0);
}

async function readOutputs() {
  if (args.outputs === '-') return readFileSync(0, 'utf8');
  if (args.outputs) return readFileSync(args.outputs, 'utf8');
  $.verbose = false;
  const tf = process.env.TERRAFORM ?? 'terraform';
  // Use the CLI config terraform/install-tools.sh writes (local provider mirror) when it exists.
  const cache = process.env.E2M_CACHE ?? join(homedir(), '.cache/e2-micro');
  const cliConfig = join(cache, 'terraform/terraformrc');
  if (existsSync(cliConfig)) $.env = { ...process.env, TF_CLI_CONFIG_FILE: cliConfig };
  return (await $`${tf} -chdir=${resolve(root, 'terraform')} output -json`).stdout;
}

try {
  const outputs = JSON.parse(await readOutputs());
  const inventory = inventoryFromOutputs(outputs, { privateKeyFile: args.key });
  const text = inventoryText(inventory, {
    header: 'Written by scripts/gcp-inventory.mjs from terraform output; do not edit by hand.',
  });
  if (args['dry-run']) {
    process.stdout.write(text);
  } else {
    const out = resolve(process.cwd(), args.out);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, text);
    console.log(`wrote ${args.out}`);
  }
} catch (e) {
  const message =
    e instanceof InventoryError || e instanceof SyntaxError ? e.message : String(e.stderr || e.message || e);
  console.error(`gcp-inventory: ${message}`);
  process.exit(1);
}
