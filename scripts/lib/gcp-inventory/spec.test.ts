// `node scripts/gcp-inventory.mjs --help`, written from its table.
import { describe, expect, it } from 'vitest';
import { decide, mainHelp } from '../cli/args.ts';
import { gcpInventorySpec } from './spec.ts';

describe('gcp-inventory --help', () => {
  it('lists every option with its help', () => {
    expect(mainHelp(gcpInventorySpec).split('\n')).toEqual([
      'Usage: node scripts/gcp-inventory.mjs --key PRIVATE_KEY [--ssh iap|direct] [--known-hosts FILE] [--outputs FILE|-] [--out FILE] [--dry-run]',
      '  --key               SSH private key of the admin user (written as ansible_ssh_private_key_file);',
      '                      not needed when platform = cloud_run and there is no VM',
      "  --outputs           terraform output -json saved to a file ('-' for stdin); default: run terraform",
      '  --ssh               iap (default): SSH through gcloud compute start-iap-tunnel, as the default firewall',
      '                      allows; direct: to the external IP (ssh_source_ranges lists your address)',
      "  --known-hosts       pin the VM's host keys from this known_hosts file instead of its guest attributes",
      "  --deploy-key        public key of the deploy user (CI's own), instead of a copy of the admin's keys",
      '  --compute-endpoint  Compute API endpoint (a local stand-in in tests)',
      "  --out               inventory to write (default inventory/gcp.yml); the VM's host keys go beside it",
      '                      (inventory/gcp.known_hosts)',
      '  --dry-run           print the inventory instead of writing it',
    ]);
  });

  it('no command writes the inventory; a misspelt option is a usage error, not a write', () => {
    expect(decide(gcpInventorySpec, ['--key', 'k', '--dry-run'])).toMatchObject({
      kind: 'run',
      invocation: {
        command: 'write',
        values: { key: 'k', 'dry-run': true, out: 'inventory/gcp.yml', ssh: 'iap' },
      },
    });
    expect(decide(gcpInventorySpec, ['--dryrun'])).toMatchObject({
      kind: 'usage',
      message: 'unknown option --dryrun (see --help)',
    });
  });
});
