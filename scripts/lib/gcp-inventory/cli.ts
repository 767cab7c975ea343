// Writes inventory/gcp.yml (or prints it with --dry-run) from the Terraform outputs of terraform/
// (terraform/README.md): saved with --outputs, or read by running `terraform output -json`.
// Exit 1 with "gcp-inventory: reason" when an output is missing or terraform fails.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { $ } from 'zx';
import type { Values } from '../cli/args.ts';
import type { Result } from '../cli/context.ts';
import type { Cli } from '../cli/run.ts';
import { InventoryError, inventoryFromOutputs, type KnownHostsRef, type SshRoute } from '../gcp-inventory.ts';
import { type Inventory, inventoryText, VM_GROUP } from '../inventory.ts';
import { checkHostKey, knownHostsText } from '../ssh/known-hosts.ts';
import { fileHostKeys, guestAttributeHostKeys } from './host-keys.ts';
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

/** inventory/gcp.yml -> inventory/gcp.known_hosts: the pinned keys live beside the inventory. */
function knownHostsRef(out: string, root: string): KnownHostsRef & { path: string } {
  const path = join(dirname(out), `${basename(out, extname(out))}.known_hosts`);
  const rel = relative(root, path);
  return {
    path,
    // The scripts resolve a relative path from the repository root (target.ts), Ansible from
    // the inventory's own directory, so the inventory works in any checkout (CI's too).
    file: rel.startsWith('..') || isAbsolute(rel) ? path : rel,
    ansibleFile: `{{ inventory_dir }}/${basename(path)}`,
  };
}

async function write(v: Values, root: string): Promise<Result> {
  try {
    const outputs = JSON.parse(await readOutputs(v.outputs as string | undefined, root));
    const out = resolve(process.cwd(), v.out as string);
    const knownHosts = knownHostsRef(out, root);
    const inventory = inventoryFromOutputs(outputs, {
      privateKeyFile: v.key as string | undefined,
      sshRoute: v.ssh as SshRoute,
      knownHosts,
      deployKeys: v['deploy-key'] ? [publicKeyLine(v['deploy-key'] as string)] : undefined,
    });
    const text = inventoryText(inventory, {
      header: 'Written by scripts/gcp-inventory.mjs from terraform output; do not edit by hand.',
    });
    const pins = await hostKeysText(inventory, v);
    if (v['dry-run']) {
      process.stdout.write(text);
      if (pins) process.stdout.write(`\n# ${knownHosts.file}\n${pins}`);
      return { code: 0 };
    }
    mkdirSync(dirname(out), { recursive: true });
    if (pins) writeFileSync(knownHosts.path, pins);
    writeFileSync(out, text);
    return { code: 0, text: `wrote ${v.out}${pins ? ` and ${knownHosts.file}` : ''}` };
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

/** The one public key in `file` (an .pub file), refused when it is anything else (a private key). */
function publicKeyLine(file: string): string {
  const line = readFileSync(file, 'utf8').trim();
  const [type, key] = line.split(/\s+/);
  if (line.includes('\n') || !type || !key) throw new InventoryError(`${file}: not one SSH public key line`);
  checkHostKey({ type, key }, file);
  return line;
}

/** known_hosts text pinning the VM's keys (none without a VM: the cloud_run shape). */
async function hostKeysText(inventory: Inventory, v: Values): Promise<string | undefined> {
  const group = inventory.all.children[VM_GROUP];
  if (!group) return undefined;
  const [[instance, host]] = Object.entries(group.hosts);
  const port = host.ansible_port ?? 22;
  const from = v['known-hosts'] as string | undefined;
  if (from) {
    const keys = fileHostKeys(from, host.ansible_host, port);
    return knownHostsText(host.ansible_host, port, keys, `pinned from ${from} by npm run infra:inventory`);
  }
  const vm = { project: group.vars.e2m_project_id, zone: group.vars.e2m_zone ?? '', instance };
  if (!vm.zone)
    throw new InventoryError(
      'reading host keys needs terraform output "instance_zone", or --known-hosts FILE',
    );
  const keys = await guestAttributeHostKeys(vm, v['compute-endpoint'] as string | undefined);
  return knownHostsText(
    host.ansible_host,
    port,
    keys,
    `${instance}'s host keys, from its guest attributes (hostkeys/), by npm run infra:inventory`,
  );
}

export const gcpInventoryCli: Cli = {
  spec: gcpInventorySpec,
  main: (inv, _ctx, root) => write(inv.values, root),
};
