// `npm run infra:cost -- --help`, written from its table: the very text the entry printed before
// its command line became a table, line for line.
import { describe, expect, it } from 'vitest';
import { decide, mainHelp } from '../cli/args.ts';
import { infraCostSpec } from './spec.ts';

describe('infra-cost --help', () => {
  it('is the help the entry has always printed', () => {
    expect(mainHelp(infraCostSpec).split('\n')).toEqual([
      'Usage: npm run infra:cost -- PLAN [--prices FILE] [--json]',
      '  PLAN       a plan file (read with terraform show -json), a JSON file from terraform show -json, or - for stdin',
      '  --prices   price table (default terraform/prices.json)',
      '  --json     print the report as JSON',
    ]);
  });

  it('the words are the plan, not a command; a misspelt option is a usage error', () => {
    expect(decide(infraCostSpec, ['plan.json', '--json'])).toMatchObject({
      kind: 'run',
      json: true,
      invocation: { command: 'report', rest: ['plan.json'], values: { json: true } },
    });
    expect(decide(infraCostSpec, ['report'])).toMatchObject({
      kind: 'run',
      invocation: { rest: ['report'] },
    });
    expect(decide(infraCostSpec, ['--price', 'p.json', 'plan.json'])).toMatchObject({
      kind: 'usage',
      message: 'unknown option --price (see --help)',
    });
  });
});
