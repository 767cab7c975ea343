#!/usr/bin/env zx
// The nightly backup job, on the VM. Setup compiles this file with Bun into one binary
// (/usr/local/lib/e2-micro/e2m-backup) so the VM needs no Node or Bun; e2m-backup.timer runs
// `e2m-backup run` as the unprivileged user e2m-backup. The operator drives it through
// scripts/backup.mjs over SSH. Journal lines are JSON; exit 0 ok, 1 failed, 2 usage.
// The command line and the commands live in lib/backup/job-cli.ts, the VM's I/O in job-io.ts.
import { runJob } from './lib/backup/job-cli.ts';
import { vmJobIo } from './lib/backup/job-io.ts';

process.exit(await runJob(process.argv.slice(2), vmJobIo));
