// `npm run infra:cost -- PLAN`: the cost report of a Terraform plan against terraform/prices.json,
// priced per resource family (report.ts). Exit 0: free, free tier or known charges only; 1: an
// unexpected cost; 2: no single PLAN, or a plan or price table that cannot be read.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { mainHelp } from '../cli/args.ts';
import type { Result } from '../cli/context.ts';
import type { Cli } from '../cli/run.ts';
import { readPlan } from './read-plan.ts';
import { costReport, formatReport } from './report.ts';
import { infraCostSpec } from './spec.ts';

export const infraCostCli: Cli = {
  spec: infraCostSpec,
  async main(inv, ctx, root): Promise<Result> {
    if (inv.rest.length !== 1) {
      console.error(mainHelp(infraCostSpec));
      return { code: 2 };
    }
    const pricesFile = (inv.values.prices as string | undefined) ?? resolve(root, 'terraform/prices.json');
    try {
      const prices = JSON.parse(readFileSync(pricesFile, 'utf8'));
      const report = costReport(JSON.parse(await readPlan(inv.rest[0])), prices);
      const code = report.ok ? 0 : 1;
      if (ctx.json) return { code, json: JSON.stringify(report, null, 2) };
      return { code, text: formatReport(report, prices.currency).replace(/\n$/, '') };
    } catch (e) {
      const err = e as { stderr?: string; message?: string };
      console.error(`infra-cost: ${String(err.stderr || err.message || e).trim()}`);
      return { code: 2 };
    }
  },
};
