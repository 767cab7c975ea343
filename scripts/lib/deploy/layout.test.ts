// The VM layout is stated once, by the Ansible roles' defaults; the scripts' copy of it
// (deploy/layout.ts, backup/plan.ts vmPaths) must agree, or overriding nothing still breaks a
// deploy. Reads the real defaults files.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { YAML } from 'zx';
import { vmPaths } from '../backup/plan.ts';
import { DRAIN_TIMEOUT_S, layout, UPSTREAM_PORT, upstreamAddresses, upstreamName } from './layout.ts';

const roles = resolve(import.meta.dirname, '..', '..', '..', 'ansible', 'roles');
const defaults = (role: string): Record<string, unknown> =>
  YAML.parse(readFileSync(resolve(roles, role, 'defaults', 'main.yml'), 'utf8'));

describe('the VM layout: the scripts agree with the roles that create it', () => {
  it('deploy paths are the docker and app_env defaults', () => {
    expect(defaults('docker').docker_deploy_dirs).toContain(layout.dir);
    expect(defaults('app_env').app_env_file).toBe(layout.envFile);
  });

  it("the proxy switch's targets, name, helper and state file are the caddy role's", () => {
    const caddy = defaults('caddy');
    expect(caddy.caddy_upstream_addresses).toEqual(upstreamAddresses);
    expect(caddy.caddy_upstream_port).toBe(UPSTREAM_PORT);
    expect(caddy.caddy_upstream_name).toBe(upstreamName);
    expect(caddy.caddy_switch_command).toBe(layout.switchCommand);
    expect(caddy.caddy_switch_state_file).toBe(layout.switchStateFile);
  });

  it("the warm colour's parker (timers role) reads the deploy's warm file, as the deploy user", () => {
    const timers = defaults('timers');
    expect(timers.timers_park_warm_file).toBe(layout.warmFile);
    expect(timers.timers_park_warm_switch_state_file).toBe(layout.switchStateFile);
    expect(timers.timers_park_warm_user).toBe(defaults('docker').docker_deploy_user);
    expect(timers.timers_park_warm_drain_s).toBe(DRAIN_TIMEOUT_S);
  });

  it('backup paths and user are the backup role defaults', () => {
    const backup = defaults('backup');
    expect(backup.backup_binary).toBe(vmPaths.binary);
    expect(backup.backup_user).toBe(vmPaths.user);
    expect(`${backup.backup_config_dir}/backup.env`).toBe(vmPaths.configFile);
    const unit = readFileSync(resolve(roles, 'backup', 'templates', `${vmPaths.unit}.j2`), 'utf8');
    expect(`/var/lib/${unit.match(/^StateDirectory=(.+)$/m)?.[1]}`).toBe(vmPaths.stateDir);
  });
});
