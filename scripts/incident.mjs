#!/usr/bin/env zx
// npm run incident -- <command>: status, logs, diag, restart, kill-switch, drill over SSH; console
// and reset through the Compute API. The commands live in lib/incident/cli.ts, the command line
// and its --help in lib/incident/spec.ts. Exit code: 0 ok, 1 failed, 2 usage.
import { resolve } from 'node:path';
import { runCli } from './lib/cli/run.ts';
import { incidentCli } from './lib/incident/cli.ts';

await runCli(incidentCli, process.argv, resolve(import.meta.dirname, '..'));
