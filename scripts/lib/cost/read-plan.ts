// I/O edge of the cost report: the plan as JSON text, from stdin, a saved JSON file, or a plan
// file read with `terraform show -json`.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { $ } from 'zx';

export async function readPlan(path: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (path === '-') return readFileSync(0, 'utf8');
  if (path.endsWith('.json')) return readFileSync(path, 'utf8');
  const tf = env.TERRAFORM ?? 'terraform';
  // Use the CLI config terraform/install-tools.sh writes (local provider mirror) when it exists.
  const cliConfig = join(env.E2M_CACHE ?? join(homedir(), '.cache/e2-micro'), 'terraform/terraformrc');
  const run = $({
    verbose: false,
    quiet: true,
    env: existsSync(cliConfig) ? { ...env, TF_CLI_CONFIG_FILE: cliConfig } : env,
  });
  return (await run`${tf} -chdir=${dirname(resolve(path))} show -json ${resolve(path)}`).stdout;
}
