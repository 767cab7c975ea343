// `npm run image`'s command line (scripts/image.mjs): its commands, options, and the --help
// written from them (lib/cli/args.ts).
import { type CliSpec, helpOption } from '../cli/args.ts';
import { APP_REPO } from './plan.ts';

export const imageSpec: CliSpec = {
  script: 'image.mjs',
  usage: 'npm run image -- <command> [options]',
  commandsTitle: 'Commands:',
  column: 18,
  optionsTitle: 'Options:',
  optionsColumn: 18,
  options: {
    tag: { type: 'string', value: 'TAG', help: `image tag for build (default ${APP_REPO}:<release>)` },
    release: {
      type: 'string',
      value: 'ID',
      help: 'release id baked into the image (default: from the git commit)',
    },
    app: {
      type: 'string',
      value: 'DIR',
      help: `build DIR's Dockerfile instead of backend/: your own app, meeting the
                  contract in docs/app-contract.md (example: examples/byo-bun). The bases are
                  passed as BUILDER_IMAGE and RUNTIME_IMAGE build args; the tag stays
                  ${APP_REPO}:<release> so deploy, rollback and retention see it`,
    },
    context: {
      type: 'string',
      value: 'DIR',
      help: 'the same as --app (the reproducibility check passes an export of the commit)',
    },
    ref: {
      type: 'string',
      value: 'GIT_REF',
      help: `build the app as GIT_REF has it (git archive), with that commit's id and
                  time in the release id and labels; never the working tree`,
    },
    'no-cache': { type: 'boolean', help: 'rebuild every step' },
    'dry-run': { type: 'boolean', help: 'print the plan, change nothing' },
    json: { type: 'boolean', help: 'machine-readable result' },
    help: { ...helpOption, help: 'this help' },
  },
  commands: {
    base: {
      summary: "build the runtime and builder bases from Debian's packages (skipped when cached)",
      options: ['dry-run'],
    },
    build: {
      summary: 'build the app image (builds the bases first if needed)',
      options: ['tag', 'release', 'app', 'context', 'ref', 'no-cache', 'dry-run', 'json'],
    },
  },
};
