// Writes inventory/gcp.yml (or prints it with --dry-run) from the Terraform outputs of terraform/
// (terraform/README.md): saved with --outputs, or read by running `terraform output -json`.
// Exit 1 with "gcp-inventory: reason" when an output is missing or terraform fails.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { $ } from 'zx';
import type { Values } from '../cli/args.ts';
import type { Result } from '../cli/context.ts';
import type { Cli } from '../cli/run.ts';
import { InventoryError, inventoryFromOutputs } from '../gcp-inventory.ts';
import { inventoryText } from '../inventory.ts';
import { gcpInventorySpec } from './spec.ts';

async function readOutputs(outputs: string | undefined, root: string): Promise<string> {
  if (outputs === '-') return readFileSync(0, 'utf8');
  if (outputs) return readFileSync(outputs, 'utf8');
  const tf = process.env.TERRAFORM ?? 'terraform';
  // Use the CLI config terraform/install-tools.sh writes (local provider mirror) when it exists.
  const cache = process.env.E2M_CACHE ?? join(homedir(), '.cache/e2-micro');
  const cliConfig = join(cache, 'terraform/terraformrc');
  const env = existsSync(cliConfig) ? { ...process.env, TF_CLI_CONFIG_FILE: cliConfig } : process.env;
  return (await $({ verbose: false, env })`${tf} -chdir=${resolve(root, 'terraform')} output -json`).stdout;
}

async function write(v: Values, root: string): Promise<Result> {
  try {
    const outputs = JSON.parse(await readOutputs(v.outputs as string | undefined, root));
    const inventory = inventoryFromOutputs(outputs, { privateKeyFile: v.key as string | undefined });
    const text = inventoryText(inventory, {
      header: 'Written by scripts/gcp-inventory.mjs from terraform output; do not edit by hand.',
    });
    if (v['dry-run']) {
      process.stdout.write(text);
      return { code: 0 };
    }
    const out = resolve(process.cwd(), v.out as string);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, text);
    return { code: 0, text: `wrote ${v.out}` };
  } catch (e) {
    const err = e as { stderr?: string; message?: string };
    const message =
      e instanceof InventoryError || e instanceof SyntaxError
        ? (e as Error).message
        : String(err.stderr || err.message || e);
    console.error(`gcp-inventory: ${message}`);
    return { code: 1 };
  }
}

export const gcpInventoryCli: Cli = {
  spec: gcpInventorySpec,
  main: (inv, _ctx, root) => write(inv.values, root),
};
