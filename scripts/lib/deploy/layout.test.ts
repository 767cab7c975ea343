// The VM layout is stated once, by the Ansible roles' defaults; the scripts' copy of it
// (deploy/layout.ts, backup/plan.ts vmPaths) must agree, or overriding nothing still breaks a
// deploy. Reads the real defaults files and the real maintenance template.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { YAML } from 'zx';
import { vmPaths } from '../backup/plan.ts';
import { layout } from './layout.ts';
import { maintenanceSnippet } from './plan.ts';

const roles = resolve(import.meta.dirname, '..', '..', '..', 'ansible', 'roles');
const defaults = (role: string): Record<string, unknown> =>
  YAML.parse(readFileSync(resolve(roles, role, 'defaults', 'main.yml'), 'utf8'));

/** Jinja's `{{ name }}` from a role's defaults: enough for the templates compared here. */
function render(template: string, vars: Record<string, unknown>): string {
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => {
    if (!(name in vars)) throw new Error(`template variable ${name} has no default`);
    return String(vars[name]);
  });
}

const withoutComments = (text: string) =>
  text
    .split('\n')
    .filter((line) => !line.startsWith('#'))
    .join('\n');

describe('the VM layout: the scripts agree with the roles that create it', () => {
  it('deploy paths are the docker, caddy and app_env defaults', () => {
    expect(defaults('docker').docker_deploy_dirs).toContain(layout.dir);
    expect(defaults('caddy').caddy_upstream_file).toBe(layout.upstreamFile);
    expect(defaults('caddy').caddy_maintenance_root).toBe(layout.maintenanceRoot);
    expect(defaults('app_env').app_env_file).toBe(layout.envFile);
  });

  it('backup paths and user are the backup role defaults', () => {
    const backup = defaults('backup');
    expect(backup.backup_binary).toBe(vmPaths.binary);
    expect(backup.backup_user).toBe(vmPaths.user);
    expect(`${backup.backup_config_dir}/backup.env`).toBe(vmPaths.configFile);
    const unit = readFileSync(resolve(roles, 'backup', 'templates', `${vmPaths.unit}.j2`), 'utf8');
    expect(`/var/lib/${unit.match(/^StateDirectory=(.+)$/m)?.[1]}`).toBe(vmPaths.stateDir);
  });

  it("the deploy's maintenance page is the one the caddy role writes", () => {
    const template = readFileSync(
      resolve(roles, 'caddy', 'templates', 'upstream-maintenance.caddy.j2'),
      'utf8',
    );
    expect(withoutComments(maintenanceSnippet())).toBe(withoutComments(render(template, defaults('caddy'))));
  });
});
