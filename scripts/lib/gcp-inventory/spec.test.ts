// `node scripts/gcp-inventory.mjs --help`, written from its table: the very text the entry printed
// before its command line became a table, line for line.
import { describe, expect, it } from 'vitest';
import { decide, mainHelp } from '../cli/args.ts';
import { gcpInventorySpec } from './spec.ts';

describe('gcp-inventory --help', () => {
  it('is the help the entry has always printed', () => {
    expect(mainHelp(gcpInventorySpec).split('\n')).toEqual([
      'Usage: node scripts/gcp-inventory.mjs --key PRIVATE_KEY [--outputs FILE|-] [--out FILE] [--dry-run]',
      '  --key       SSH private key of the admin user (written as ansible_ssh_private_key_file);',
      '              not needed when platform = cloud_run and there is no VM',
      "  --outputs   terraform output -json saved to a file ('-' for stdin); default: run terraform",
      '  --out       inventory to write (default inventory/gcp.yml)',
      '  --dry-run   print the inventory instead of writing it',
    ]);
  });

  it('no command writes the inventory; a misspelt option is a usage error, not a write', () => {
    expect(decide(gcpInventorySpec, ['--key', 'k', '--dry-run'])).toMatchObject({
      kind: 'run',
      invocation: { command: 'write', values: { key: 'k', 'dry-run': true, out: 'inventory/gcp.yml' } },
    });
    expect(decide(gcpInventorySpec, ['--dryrun'])).toMatchObject({
      kind: 'usage',
      message: 'unknown option --dryrun (see --help)',
    });
  });
});
