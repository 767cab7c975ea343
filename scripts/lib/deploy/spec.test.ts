// `npm run deploy -- --help`, written from its table.
import { describe, expect, it } from 'vitest';
import { commandHelp, decide, mainHelp } from '../cli/args.ts';
import { deploySpec } from './spec.ts';

describe('deploy --help', () => {
  it('lists every command with its summary, and the options', () => {
    const help = mainHelp(deploySpec).split('\n');
    expect(help.slice(0, 12)).toEqual([
      'Usage: zx scripts/deploy.mjs <command> [options]     (or: npm run deploy -- <command>)',
      '',
      'Commands:',
      '  deploy [--ref GIT_REF | --image IMAGE]  build (or take) an image and deploy it blue-green;',
      '                                          then apply image retention (--app DIR, --keep N)',
      '  rollback [RELEASE]                      back to the previous (or the named) release',
      '  releases                                recent releases; the serving one marked *',
      '  cleanup [--keep N]                      remove old images (keeps N=5 most recent, in-use,',
      '                                          and tags latest, stable, semantic versions)',
      '  status                                  the serving and the warm colour, containers, lock',
      '  lock                                    hold the deploy lock',
      '  unlock [--force]                        release the deploy lock',
    ]);
    expect(help).toContain('  --target twin|dev|staging|prod   where to (default twin)');
    expect(help.at(-1)).toBe('Exit codes: 0 success, 1 failure, 2 bad usage.');
  });

  it("prints a command's own help after it", () => {
    expect(commandHelp(deploySpec, 'rollback').split('\n')[0]).toBe(
      'Usage: rollback [RELEASE] [--force] [--warm-for SECONDS] [--lock-wait SECONDS] [--target T] [--dry-run] [--json]',
    );
    expect(decide(deploySpec, ['deploy', '--help'])).toMatchObject({ kind: 'help', code: 0 });
  });

  it('refuses a misspelt flag instead of ignoring it', () => {
    expect(decide(deploySpec, ['deploy', '--dryrun'])).toMatchObject({
      kind: 'usage',
      message: 'unknown option --dryrun (see --help)',
    });
  });
});
