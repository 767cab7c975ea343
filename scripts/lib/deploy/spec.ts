// `npm run deploy`'s command line: its options and commands, from which the parser reads argv and
// --help is written (lib/cli/args.ts).
import { type CliSpec, helpOption, targetOption } from '../cli/args.ts';

export const deploySpec: CliSpec = {
  script: 'deploy.mjs',
  usage: 'zx scripts/deploy.mjs <command> [options]     (or: npm run deploy -- <command>)',
  commandsTitle: 'Commands:',
  column: 42,
  options: {
    target: targetOption('where to (default twin)'),
    'dry-run': {
      type: 'boolean',
      help: 'print the exact plan (every command on every host), change nothing',
    },
    json: { type: 'boolean', help: 'machine-readable output' },
    help: helpOption,
    ref: { type: 'string', value: 'GIT_REF' },
    image: { type: 'string', value: 'IMAGE' },
    app: { type: 'string', value: 'DIR' },
    keep: { type: 'string', value: 'N' },
    force: { type: 'boolean' },
    'lock-wait': { type: 'string', value: 'SECONDS' },
    'warm-for': { type: 'string', value: 'SECONDS' },
    'allow-dirty': { type: 'boolean' },
    'allow-destructive': { type: 'boolean' },
  },
  commands: {
    deploy: {
      synopsis: 'deploy [--ref GIT_REF | --image IMAGE]',
      summary: `build (or take) an image and deploy it blue-green;
then apply image retention (--app DIR, --keep N)`,
      options: [
        'ref',
        'image',
        'app',
        'keep',
        'warm-for',
        'lock-wait',
        'allow-dirty',
        'allow-destructive',
        'target',
        'dry-run',
        'json',
      ],
      about: `Builds the backend image from the working tree (or GIT_REF), or takes a local IMAGE; --app DIR
builds DIR's Dockerfile instead (your own app: see docs/app-contract.md, example examples/byo-bun).
Any image must meet that contract, and a deploy that finds a piece missing says which. Ships it to
the VM unless the VM has that image id (docker save | zstd | ssh | docker load); runs migrations;
starts the idle colour; waits for /readyz; switches Caddy; verifies; keeps the old colour warm
(running and ready, out of rotation) for --warm-for SECONDS (default 900, at most 86400), after
which the VM parks it (drains and stops it, kept for rollback; 0 does that at once); records the release; then removes images beyond the N (--keep,
default 5) most recent releases, never one in use or tagged latest, stable or x.y.z. Any
failure stops the new colour and leaves the old one serving.
--ref builds exactly GIT_REF (git archive), with its commit in the release id; staging and prod
refuse a working tree with uncommitted changes unless --allow-dirty. The deploy lock is a lease
its holder renews: one whose deploy died lapses after 90 s and the next deploy breaks it;
--lock-wait SECONDS queues behind a live one instead of refusing. A pending migration that would
drop, rename, retype or empty (IMAGE migrate --dry-run) is refused unless --allow-destructive,
which takes a dump (the backup unit) before it runs.`,
    },
    rollback: {
      synopsis: 'rollback [RELEASE]',
      summary: 'back to the previous (or the named) release',
      args: '[RELEASE]',
      options: ['force', 'warm-for', 'lock-wait', 'target', 'dry-run', 'json'],
      about: `Switches Caddy back to the previous (or the named) release. Inside the warm window after a deploy
its colour still runs, so that is the switch and its verify (well under a second); after it, the
parked container is started first (a few seconds), or a new one from the image. The colour it
leaves stays warm for --warm-for SECONDS (default 900; 0 stops it at once). Refused, with the
migration named, when a release since then changed the schema destructively; --force runs the
old code on that schema anyway.`,
    },
    releases: {
      summary: 'recent releases; the serving one marked *',
      options: ['target', 'json'],
      about: 'Id, image, git sha, time, who and outcome of recent releases; * marks the serving one.',
    },
    cleanup: {
      synopsis: 'cleanup [--keep N]',
      summary: `remove old images (keeps N=5 most recent, in-use,
and tags latest, stable, semantic versions)`,
      options: ['keep', 'lock-wait', 'target', 'dry-run', 'json'],
      about:
        'Removes images beyond the N (default 5) most recent releases; never one a container uses or tagged latest, stable or x.y.z.',
    },
    status: {
      summary: 'the serving and the warm colour, containers, lock',
      options: ['target', 'json'],
      about:
        'The serving colour and release, the warm colour and until when, the app containers, the deploy lock and the number of images.',
    },
    lock: {
      summary: 'hold the deploy lock',
      options: ['target'],
      about: 'Takes the deploy lock so no deploy runs until `unlock`.',
    },
    unlock: {
      synopsis: 'unlock [--force]',
      summary: 'release the deploy lock',
      options: ['force', 'target'],
      about: 'Releases the lock; --force breaks one held by someone else (say, a deploy that died).',
    },
  },
  footer: `On an environment whose platform is cloud_run (terraform/, inventory group cloud_run) the same
commands go to the Cloud Run API: deploy [--image REGISTRY/IMAGE:TAG | --ref GIT_REF] runs the
migrate job, then a new revision with all traffic; rollback [REVISION] moves the traffic to the
previous (or the named) revision; releases lists revisions; status names the serving one.

Exit codes: 0 success, 1 failure, 2 bad usage.`,
};
