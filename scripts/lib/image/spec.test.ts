// `npm run image -- --help`, written from its table: the very text the entry printed before its
// command line became a table, line for line.
import { describe, expect, it } from 'vitest';
import { decide, mainHelp } from '../cli/args.ts';
import { imageSpec } from './spec.ts';

describe('image --help', () => {
  it('is the help the entry has always printed', () => {
    expect(mainHelp(imageSpec).split('\n')).toEqual([
      'Usage: npm run image -- <command> [options]',
      '',
      'Commands:',
      "  base            build the runtime and builder bases from Debian's packages (skipped when cached)",
      '  build           build the app image (builds the bases first if needed)',
      '',
      'Options:',
      '  --tag TAG       image tag for build (default e2m/backend:<release>)',
      '  --release ID    release id baked into the image (default: from the git commit)',
      "  --app DIR       build DIR's Dockerfile instead of backend/: your own app, meeting the",
      '                  contract in docs/app-contract.md (example: examples/byo-bun). The bases are',
      '                  passed as BUILDER_IMAGE and RUNTIME_IMAGE build args; the tag stays',
      '                  e2m/backend:<release> so deploy, rollback and retention see it',
      '  --context DIR   the same as --app (the reproducibility check passes an export of the commit)',
      "  --ref GIT_REF   build the app as GIT_REF has it (git archive), with that commit's id and",
      '                  time in the release id and labels; never the working tree',
      '  --no-cache      rebuild every step',
      '  --dry-run       print the plan, change nothing',
      '  --json          machine-readable result',
      '  -h, --help      this help',
    ]);
  });

  it('reads --no-cache as its own flag; a misspelt option is a usage error, not a build', () => {
    expect(decide(imageSpec, ['build', '--no-cache', '--json'])).toMatchObject({
      kind: 'run',
      json: true,
      invocation: { command: 'build', values: { 'no-cache': true, json: true } },
    });
    expect(decide(imageSpec, ['build', '--nocache'])).toMatchObject({
      kind: 'usage',
      message: 'unknown option --nocache (see --help)',
    });
  });
});
