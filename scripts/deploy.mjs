#!/usr/bin/env zx
// npm run deploy -- <command>: blue-green deploys to the VM over SSH, rollback, releases, cleanup,
// status and the deploy lock; on a cloud_run target the same commands go to the Cloud Run API.
// The commands live in lib/deploy/cli.ts, the command line and its --help in lib/deploy/spec.ts.
// Exit code: 0 ok, 1 failed, 2 usage.
import { resolve } from 'node:path';
import { runCli } from './lib/cli/run.ts';
import { deployCli } from './lib/deploy/cli.ts';

await runCli(deployCli, process.argv, resolve(import.meta.dirname, '..'));
