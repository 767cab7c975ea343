#!/usr/bin/env zx
// npm run twin -- up|down|status|ssh|reset: the local e2-micro twin (see docs/twin.md). The
// commands live in lib/twin/cli.ts, the command line and its --help in lib/twin/spec.ts.
// Exit code: 0 ok, 1 failed, 2 usage, 3 (status) the twin is down.
import { resolve } from 'node:path';
import { runCli } from './lib/cli/run.ts';
import { twinCli } from './lib/twin/cli.ts';

await runCli(twinCli, process.argv, resolve(import.meta.dirname, '..'));
