#!/usr/bin/env zx
// @ts-check
// `npm run bench -- NAME`: runs one benchmark from bench/NAME.ts, which prints its figures.
import { $, argv, echo, fs, path } from 'zx';

const names = (await fs.readdir(import.meta.dirname))
  .filter((/** @type {string} */ f) => f.endsWith('.ts') && !f.startsWith('lib'))
  .map((/** @type {string} */ f) => f.slice(0, -3));
const [name] = argv._;
if (!name || argv.help || argv.h) {
  echo(
    `Usage: npm run bench -- <name> [options]\n\nBenchmarks: ${names.join(', ')}\nEach prints its figures; see the file's header for what it measures.`,
  );
  process.exit(name || argv.help || argv.h ? 0 : 2);
}
if (!names.includes(name)) {
  echo(`unknown benchmark: ${name} (have: ${names.join(', ')})`);
  process.exit(2);
}
$.verbose = false;
await import(path.join(import.meta.dirname, `${name}.ts`));
