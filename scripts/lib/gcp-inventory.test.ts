import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { YAML } from 'zx';
import { startComputeFake } from '../../test/support/compute-fake.ts';
import {
  CLOUD_RUN_OUTPUTS,
  InventoryError,
  iapProxyCommand,
  inventoryFromOutputs,
  OPTIONAL_OUTPUTS,
  REQUIRED_OUTPUTS,
} from './gcp-inventory.ts';

// What `terraform output -json` prints for terraform/outputs.tf.
const wrap = (values: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(values).map(([k, v]) => [k, { sensitive: false, type: typeof v, value: v }]),
  );
const outputs = wrap({
  project_id: 'e2m-dev-123456',
  environment: 'dev',
  instance_name: 'e2m-dev',
  instance_zone: 'us-central1-b',
  external_ip: '203.0.113.10',
  admin_user: 'ops',
  ssh_port: 22,
  domain: 'dev.api.example.com',
  tls_mode: 'acme',
  backup_bucket: 'e2m-dev-123456-e2m-dev-backups',
  gcs_endpoint: '',
  service_account_email: 'e2m-dev-vm@e2m-dev-123456.iam.gserviceaccount.com',
});

describe('inventoryFromOutputs', () => {
  it('builds the e2micro group with one host and the shared variable names', () => {
    const inv = inventoryFromOutputs(outputs, { privateKeyFile: '~/.ssh/e2m_ed25519', sshRoute: 'direct' });
    expect(inv).toEqual({
      all: {
        children: {
          e2micro: {
            hosts: {
              'e2m-dev': {
                ansible_host: '203.0.113.10',
                ansible_user: 'ops',
                ansible_ssh_private_key_file: '~/.ssh/e2m_ed25519',
                ansible_port: 22,
              },
            },
            vars: {
              e2m_env: 'dev',
              e2m_domain: 'dev.api.example.com',
              e2m_tls_mode: 'acme',
              e2m_backup_bucket: 'e2m-dev-123456-e2m-dev-backups',
              e2m_gcs_endpoint: '',
              e2m_project_id: 'e2m-dev-123456',
              e2m_zone: 'us-central1-b',
              e2m_http_url: 'https://dev.api.example.com',
            },
          },
        },
      },
    });
  });

  it('leaves the zone out for a state without instance_zone, and refuses a non-string one', () => {
    const { instance_zone, ...old } = outputs;
    expect(() => inventoryFromOutputs(old, { privateKeyFile: 'k' })).toThrow(
      /the IAP route needs terraform output "instance_zone"/,
    );
    expect(
      inventoryFromOutputs(old, { privateKeyFile: 'k', sshRoute: 'direct' }).all.children.e2micro?.vars,
    ).not.toHaveProperty('e2m_zone');
    const bad = { ...outputs, instance_zone: { value: 42 } };
    expect(() => inventoryFromOutputs(bad, { privateKeyFile: 'k' })).toThrow(
      /"instance_zone" must be a zone name \(got 42\)/,
    );
  });

  it('pins the host keys and routes SSH through IAP, for Ansible and the scripts alike', () => {
    const knownHosts = {
      file: 'inventory/gcp.known_hosts',
      ansibleFile: '{{ inventory_dir }}/gcp.known_hosts',
    };
    const host = inventoryFromOutputs(outputs, { privateKeyFile: 'k', knownHosts }).all.children.e2micro
      ?.hosts['e2m-dev'];
    const tunnel =
      'gcloud compute start-iap-tunnel e2m-dev %p --listen-on-stdin --project=e2m-dev-123456 --zone=us-central1-b --verbosity=warning';
    expect(host).toMatchObject({
      e2m_known_hosts_file: 'inventory/gcp.known_hosts',
      e2m_ssh_proxy_command: tunnel,
      ansible_ssh_common_args: `-o UserKnownHostsFile={{ inventory_dir }}/gcp.known_hosts -o StrictHostKeyChecking=yes -o ProxyCommand="${tunnel}"`,
    });
    const direct = inventoryFromOutputs(outputs, { privateKeyFile: 'k', knownHosts, sshRoute: 'direct' }).all
      .children.e2micro?.hosts['e2m-dev'];
    expect(direct).not.toHaveProperty('e2m_ssh_proxy_command');
    expect(direct?.ansible_ssh_common_args).not.toMatch(/ProxyCommand/);
  });

  it('refuses an unknown route, and names that would be more than a word in the tunnel command', () => {
    expect(() => inventoryFromOutputs(outputs, { privateKeyFile: 'k', sshRoute: 'vpn' as 'iap' })).toThrow(
      /SSH route must be one of iap, direct \(got "vpn"\)/,
    );
    expect(() => iapProxyCommand('vm;rm -rf /', 'p-123456', 'us-central1-b')).toThrow(
      /instance "vm;rm -rf \/" is not a GCE name/,
    );
  });

  it('names the missing output', () => {
    const { external_ip, ...rest } = outputs;
    expect(() => inventoryFromOutputs(rest, { privateKeyFile: 'k' })).toThrow(/"external_ip" is missing/);
  });

  it('refuses an environment outside dev, staging, prod', () => {
    const bad = { ...outputs, environment: { value: 'twin' } };
    expect(() => inventoryFromOutputs(bad, { privateKeyFile: 'k' })).toThrow(InventoryError);
    expect(() => inventoryFromOutputs(bad, { privateKeyFile: 'k' })).toThrow(/dev, staging, prod/);
  });

  it('requires the private key path', () => {
    expect(() => inventoryFromOutputs(outputs, { privateKeyFile: '' })).toThrow(/--key/);
  });

  it('refuses a non-numeric port and a non-object input', () => {
    expect(() =>
      inventoryFromOutputs({ ...outputs, ssh_port: { value: 'ssh' } }, { privateKeyFile: 'k' }),
    ).toThrow(/ssh_port/);
    expect(() => inventoryFromOutputs([], { privateKeyFile: 'k' })).toThrow(/JSON object/);
  });
});

// The cloud_run shape's outputs: no VM unless keep_vm.
const cloudRunOutputs: Record<string, unknown> = {
  ...outputs,
  ...wrap({
    platform: 'cloud_run',
    region: 'us-central1',
    cloud_run_service: 'e2m-dev',
    cloud_run_migrate_job: 'e2m-dev-migrate',
    cloud_run_url: 'https://e2m-dev-abc123-uc.a.run.app',
    artifact_registry_repository: 'us-central1-docker.pkg.dev/e2m-dev-123456/e2m-dev',
  }),
  instance_name: { sensitive: false, type: 'string', value: null },
  external_ip: { sensitive: false, type: 'string', value: null },
};

describe('inventoryFromOutputs, platform cloud_run', () => {
  it('writes a cloud_run group with the service coordinates, and no VM group without a VM', () => {
    const inv = inventoryFromOutputs(cloudRunOutputs, {});
    expect(inv).toEqual({
      all: {
        children: {
          cloud_run: {
            hosts: { 'e2m-dev': {} },
            vars: {
              e2m_env: 'dev',
              e2m_platform: 'cloud_run',
              e2m_domain: 'dev.api.example.com',
              e2m_project_id: 'e2m-dev-123456',
              e2m_region: 'us-central1',
              e2m_cloud_run_service: 'e2m-dev',
              e2m_cloud_run_migrate_job: 'e2m-dev-migrate',
              e2m_cloud_run_url: 'https://e2m-dev-abc123-uc.a.run.app',
              e2m_image_repository: 'us-central1-docker.pkg.dev/e2m-dev-123456/e2m-dev',
              e2m_backup_bucket: 'e2m-dev-123456-e2m-dev-backups',
              e2m_http_url: 'https://dev.api.example.com',
            },
          },
        },
      },
    });
  });

  it('keeps the VM group beside it during the migration (keep_vm)', () => {
    const inv = inventoryFromOutputs(
      { ...cloudRunOutputs, instance_name: outputs.instance_name, external_ip: outputs.external_ip },
      { privateKeyFile: 'k' },
    );
    expect(Object.keys(inv.all.children)).toEqual(['e2micro', 'cloud_run']);
    expect(inv.all.children.e2micro?.hosts['e2m-dev'].ansible_host).toBe('203.0.113.10');
  });

  it('names a missing Cloud Run output and refuses an unknown platform', () => {
    for (const key of CLOUD_RUN_OUTPUTS) {
      const { [key]: _dropped, ...rest } = cloudRunOutputs;
      expect(() => inventoryFromOutputs(rest, {}), key).toThrow(new RegExp(`"${key}"`));
    }
    expect(() =>
      inventoryFromOutputs({ ...outputs, platform: { value: 'gke' } }, { privateKeyFile: 'k' }),
    ).toThrow(/"platform" must be one of vm, cloud_run/);
  });
});

describe('terraform/outputs.tf', () => {
  it('declares every output the inventory reads', () => {
    const tf = readFileSync(new URL('../../terraform/outputs.tf', import.meta.url), 'utf8');
    const declared = [...tf.matchAll(/^output "([a-z_]+)"/gm)].map((m) => m[1]);
    for (const key of [...REQUIRED_OUTPUTS, ...OPTIONAL_OUTPUTS, ...CLOUD_RUN_OUTPUTS])
      expect(declared).toContain(key);
  });

  it('makes each required output necessary', () => {
    for (const key of REQUIRED_OUTPUTS) {
      const { [key]: _dropped, ...rest } = outputs;
      expect(() => inventoryFromOutputs(rest, { privateKeyFile: 'k' }), key).toThrow(new RegExp(`"${key}"`));
    }
  });
});

// Each run starts node and loads the Compute client: seconds on a busy machine.
describe('scripts/gcp-inventory.mjs', { timeout: 60_000 }, () => {
  const vm = { project: 'e2m-dev-123456', zone: 'us-central1-b', instance: 'e2m-dev' };
  const ed25519 = 'AAAAC3NzaC1lZDI1NTE5AAAAIOHcSjQMHb+E2yTMm6XHaQfdSvQ6q8GmGr0Q1MhDd4Ye';

  /** `node scripts/gcp-inventory.mjs ...args` as a user runs it, with the outputs saved in `dir`. */
  async function writeInventory(dir: string, args: string[]) {
    writeFileSync(join(dir, 'out.json'), JSON.stringify(outputs));
    const child = spawn(
      process.execPath,
      [
        'scripts/gcp-inventory.mjs',
        '--key',
        '/home/me/.ssh/e2m',
        '--outputs',
        join(dir, 'out.json'),
        ...args,
      ],
      { stdio: 'pipe' },
    );
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (out += b));
    const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
    return { code, out };
  }

  it('writes the inventory and pins the host keys the VM published in its guest attributes', async () => {
    const api = await startComputeFake(vm, [
      { namespace: 'hostkeys', key: 'ssh-ed25519', value: ed25519 },
      { namespace: 'other', key: 'x', value: 'y' },
    ]);
    try {
      const dir = mkdtempSync(join(tmpdir(), 'gcp-inv-'));
      const inv = join(dir, 'gcp.yml');
      const r = await writeInventory(dir, ['--out', inv, '--compute-endpoint', api.endpoint]);
      expect(r.code, r.out).toBe(0);
      const doc = YAML.parse(readFileSync(inv, 'utf8'));
      const host = doc.all.children.e2micro.hosts['e2m-dev'];
      expect(host.ansible_ssh_private_key_file).toBe('/home/me/.ssh/e2m');
      expect(host.e2m_known_hosts_file).toBe(join(dir, 'gcp.known_hosts'));
      expect(readFileSync(join(dir, 'gcp.known_hosts'), 'utf8')).toContain(
        `203.0.113.10 ssh-ed25519 ${ed25519}\n`,
      );
      expect(api.requests).toContain(
        `GET ${api.base}/instances/e2m-dev/getGuestAttributes?queryPath=hostkeys/`,
      );
    } finally {
      await api.close();
    }
  });

  it('fails, writing nothing, when the VM has published no host keys yet', async () => {
    const api = await startComputeFake(vm, []);
    try {
      const dir = mkdtempSync(join(tmpdir(), 'gcp-inv-'));
      const r = await writeInventory(dir, [
        '--out',
        join(dir, 'gcp.yml'),
        '--compute-endpoint',
        api.endpoint,
      ]);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/VM e2m-dev .* publishes no host keys in its guest attributes/);
      expect(existsSync(join(dir, 'gcp.yml'))).toBe(false);
    } finally {
      await api.close();
    }
  });

  it("gives the deploy user CI's own public key, and refuses a private key in its place", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gcp-inv-'));
    writeFileSync(join(dir, 'mine'), `203.0.113.10 ssh-ed25519 ${ed25519}\n`);
    writeFileSync(join(dir, 'ci.pub'), `ssh-ed25519 ${ed25519} ci@github\n`);
    const known = ['--known-hosts', join(dir, 'mine')];
    const ok = await writeInventory(dir, [
      '--out',
      join(dir, 'gcp.yml'),
      ...known,
      '--deploy-key',
      join(dir, 'ci.pub'),
    ]);
    expect(ok.code, ok.out).toBe(0);
    const doc = YAML.parse(readFileSync(join(dir, 'gcp.yml'), 'utf8'));
    expect(doc.all.children.e2micro.vars.e2m_deploy_authorized_keys).toEqual([
      `ssh-ed25519 ${ed25519} ci@github`,
    ]);
    writeFileSync(
      join(dir, 'ci'),
      '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n',
    );
    const bad = await writeInventory(dir, [
      '--out',
      join(dir, 'x.yml'),
      ...known,
      '--deploy-key',
      join(dir, 'ci'),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/ci: not one SSH public key line/);
    expect(existsSync(join(dir, 'x.yml'))).toBe(false);
  });

  it('takes the keys from a known_hosts file the user verified, and refuses one without the VM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gcp-inv-'));
    writeFileSync(join(dir, 'mine'), `203.0.113.10 ssh-ed25519 ${ed25519}\n`);
    const ok = await writeInventory(dir, ['--out', join(dir, 'gcp.yml'), '--known-hosts', join(dir, 'mine')]);
    expect(ok.code, ok.out).toBe(0);
    expect(readFileSync(join(dir, 'gcp.known_hosts'), 'utf8')).toContain(ed25519);
    writeFileSync(join(dir, 'other'), `198.51.100.1 ssh-ed25519 ${ed25519}\n`);
    const bad = await writeInventory(dir, ['--out', join(dir, 'x.yml'), '--known-hosts', join(dir, 'other')]);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/other lists no key for 203\.0\.113\.10/);
  });

  it('exits 1 with the reason when an output is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gcp-inv-'));
    writeFileSync(join(dir, 'out.json'), JSON.stringify({ environment: { value: 'dev' } }));
    let err: { status?: number; stderr?: unknown } | undefined;
    try {
      execFileSync(
        process.execPath,
        ['scripts/gcp-inventory.mjs', '--key', 'k', '--outputs', join(dir, 'out.json'), '--dry-run'],
        {
          stdio: 'pipe',
        },
      );
    } catch (e) {
      err = e as typeof err;
    }
    expect(err?.status).toBe(1);
    expect(String(err?.stderr)).toMatch(/gcp-inventory: terraform output "domain" is missing/);
  });
});
