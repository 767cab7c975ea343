// `npm run infra:inventory`'s command line (scripts/gcp-inventory.mjs): one thing to do, its
// options, and the --help written from them (lib/cli/args.ts).
import type { CliSpec } from '../cli/args.ts';

export const gcpInventorySpec: CliSpec = {
  script: 'gcp-inventory.mjs',
  usage: 'node scripts/gcp-inventory.mjs --key PRIVATE_KEY [--outputs FILE|-] [--out FILE] [--dry-run]',
  commandsTitle: '',
  column: 0,
  defaultCommand: 'write',
  compact: true,
  optionsColumn: 14,
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
    out: {
      type: 'string',
      default: 'inventory/gcp.yml',
      help: 'inventory to write (default inventory/gcp.yml)',
    },
    'dry-run': { type: 'boolean', help: 'print the inventory instead of writing it' },
    help: { type: 'boolean', short: 'h' },
  },
  commands: {
    write: { summary: 'write the inventory', options: ['key', 'outputs', 'out', 'dry-run'] },
  },
};
