// `npm run infra:cost`'s command line (scripts/infra-cost.mjs): one plan in, its cost report out;
// the --help is written from this table (lib/cli/args.ts).
import type { CliSpec } from '../cli/args.ts';

export const infraCostSpec: CliSpec = {
  script: 'infra-cost.mjs',
  usage: 'npm run infra:cost -- PLAN [--prices FILE] [--json]',
  commandsTitle: '',
  column: 0,
  defaultCommand: 'report',
  operand: {
    name: 'PLAN',
    help: 'a plan file (read with terraform show -json), a JSON file from terraform show -json, or - for stdin',
  },
  compact: true,
  optionsColumn: 13,
  options: {
    prices: { type: 'string', help: 'price table (default terraform/prices.json)' },
    json: { type: 'boolean', help: 'print the report as JSON' },
    help: { type: 'boolean', short: 'h' },
  },
  commands: {
    report: { summary: 'the cost report of PLAN', options: ['prices', 'json'] },
  },
};
