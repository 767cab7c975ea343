#!/usr/bin/env zx
// `npm run dev`: MariaDB and Redis from Debian's packages, migrations, sample data, then the
// backend under `bun --watch`; Ctrl-C stops all it started. The work lives in lib/dev/cli.ts,
// the command line and its --help in lib/dev/spec.ts. Exit code: 0 ok, 1 failed, 2 usage.
import { resolve } from 'node:path';
import { runCli } from './lib/cli/run.ts';
import { devCli } from './lib/dev/cli.ts';

await runCli(devCli, process.argv, resolve(import.meta.dirname, '..'));
