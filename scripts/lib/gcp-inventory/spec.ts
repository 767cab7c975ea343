// `npm run infra:inventory`'s command line (scripts/gcp-inventory.mjs): one thing to do, its
// options, and the --help written from them (lib/cli/args.ts).
import type { CliSpec } from '../cli/args.ts';

export const gcpInventorySpec: CliSpec = {
  script: 'gcp-inventory.mjs',
  usage:
    'node scripts/gcp-inventory.mjs --key PRIVATE_KEY [--ssh iap|direct] [--known-hosts FILE] [--outputs FILE|-] [--out FILE] [--dry-run]',
  commandsTitle: '',
  column: 0,
  defaultCommand: 'write',
  compact: true,
  optionsColumn: 22,
  options: {
    key: {
      type: 'string',
      help: `SSH private key of the admin user (written as ansible_ssh_private_key_file);
                      not needed when platform = cloud_run and there is no VM`,
    },
    outputs: {
      type: 'string',
      help: "terraform output -json saved to a file ('-' for stdin); default: run terraform",
    },
    ssh: {
      type: 'string',
      default: 'iap',
      help: `iap (default): SSH through gcloud compute start-iap-tunnel, as the default firewall
                      allows; direct: to the external IP (ssh_source_ranges lists your address)`,
    },
    'known-hosts': {
      type: 'string',
      help: `pin the VM's host keys from this known_hosts file instead of its guest attributes`,
    },
    'deploy-key': {
      type: 'string',
      help: `public key of the deploy user (CI's own), instead of a copy of the admin's keys`,
    },
    'compute-endpoint': { type: 'string', help: 'Compute API endpoint (a local stand-in in tests)' },
    out: {
      type: 'string',
      default: 'inventory/gcp.yml',
      help: `inventory to write (default inventory/gcp.yml); the VM's host keys go beside it
                      (inventory/gcp.known_hosts)`,
    },
    'dry-run': { type: 'boolean', help: 'print the inventory instead of writing it' },
    help: { type: 'boolean', short: 'h' },
  },
  commands: {
    write: {
      summary: 'write the inventory',
      options: ['key', 'ssh', 'known-hosts', 'deploy-key', 'compute-endpoint', 'outputs', 'out', 'dry-run'],
    },
  },
};
