#!/usr/bin/env zx
// `npm run rehearse`: the whole path on the local twin, as it will run against GCP: bring the
// twin up (kept if already up), converge it with ansible-playbook setup.yml, then build and
// deploy the backend with scripts/deploy.mjs. Each step is the user-facing command itself.
// The steps live in lib/rehearse/plan.ts, running them in cli.ts, the command line in spec.ts.
// Exit code: 0 done, 1 a step failed, 2 usage.
import { resolve } from 'node:path';
import { runCli } from './lib/cli/run.ts';
import { rehearseCli } from './lib/rehearse/cli.ts';

await runCli(rehearseCli, process.argv, resolve(import.meta.dirname, '..'));
