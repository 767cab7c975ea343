#!/usr/bin/env zx
// Builds the backend image locally: `base` makes the two Debian-built bases (cached by recipe),
// `build` makes the app image on them. The commands live in lib/image/cli.ts, the command line
// and its --help in lib/image/spec.ts, the plans in lib/image/plan.ts.
// Exit code: 0 ok, 1 failed, 2 usage (or an --app directory without a Dockerfile).
import { resolve } from 'node:path';
import { runCli } from './lib/cli/run.ts';
import { imageCli } from './lib/image/cli.ts';

await runCli(imageCli, process.argv, resolve(import.meta.dirname, '..'));
