#!/usr/bin/env zx
// npm run backup -- <command>: the operator's side of the backups. `run`, `list`, `restore` and
// `verify` run the VM's job over SSH; `prune` runs here. The commands live in lib/backup/cli.ts,
// the command line and its --help in lib/backup/spec.ts. Exit code: 0 ok, 1 failed, 2 usage.
import { resolve } from 'node:path';
import { backupCli } from './lib/backup/cli.ts';
import { runCli } from './lib/cli/run.ts';

await runCli(backupCli, process.argv, resolve(import.meta.dirname, '..'));
