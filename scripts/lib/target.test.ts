import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { YAML } from 'zx';
import { inventoryFromOutputs } from './gcp-inventory.ts';
import { loadTarget, parseTarget, resolveTarget, TargetError } from './target.ts';
import { inventoryYaml, resolveConfig } from './twin/plan.ts';

const twinCfg = resolveConfig({
  root: '/repo',
  env: {},
  flags: {},
  provisionScript: 'x',
  gcsBinary: '/bin/fake',
  gcsTag: 't',
  cacheDir: '/cache/twin',
  nodeBin: '/usr/bin/node',
});
const twinYaml = inventoryYaml(twinCfg);

describe('parseTarget: the twin inventory written by `twin up`', () => {
  it('resolves every field', () => {
    expect(parseTarget('twin', twinYaml, 'inventory/twin.yml', '/repo')).toEqual({
      name: 'twin',
      inventoryFile: 'inventory/twin.yml',
      hostName: 'twin',
      host: '127.0.0.1',
      port: 2222,
      user: 'ops',
      deployUser: 'deploy',
      keyFile: '/repo/.twin/id_ed25519',
      knownHostsFile: '/repo/.twin/known_hosts',
      env: 'twin',
      domain: 'localhost',
      tlsMode: 'internal',
      projectId: 'e2m-twin-local',
      bucket: 'e2m-twin-backups',
      gcsEndpoint: 'http://127.0.0.1:4443',
      vmGcsEndpoint: 'http://e2m-twin-gcs:4443',
      httpUrl: 'http://127.0.0.1:8080',
      httpsUrl: 'https://127.0.0.1:8443',
      appCpus: 1,
    });
  });

  it('matches the committed example', () => {
    const example = readFileSync(new URL('../../inventory/twin.example.yml', import.meta.url), 'utf8');
    const t = parseTarget('twin', example, 'inventory/twin.example.yml', '/repo');
    expect(t.keyFile).toBe('/path/to/repo/.twin/id_ed25519');
    expect(Object.keys(YAML.parse(example).all.children.e2micro.vars).sort()).toEqual(
      Object.keys(YAML.parse(twinYaml).all.children.e2micro.vars).sort(),
    );
  });
});

describe('parseTarget: the GCP inventory (scripts/gcp-inventory.mjs)', () => {
  const out = (value: unknown) => ({ value });
  const gcp = YAML.stringify(
    inventoryFromOutputs(
      {
        environment: out('prod'),
        domain: out('example.org'),
        instance_name: out('e2m-prod'),
        external_ip: out('203.0.113.10'),
        admin_user: out('ops'),
        backup_bucket: out('e2m-prod-backups'),
        project_id: out('e2m-prod-123'),
      },
      { privateKeyFile: 'keys/prod_ed25519', sshRoute: 'direct' },
    ),
  );

  it('resolves the host whose e2m_env is the target, real GCS when no endpoint', () => {
    const t = parseTarget('prod', gcp, 'inventory/gcp.yml', '/repo');
    expect(t).toMatchObject({
      hostName: 'e2m-prod',
      host: '203.0.113.10',
      port: 22,
      keyFile: '/repo/keys/prod_ed25519',
      tlsMode: 'acme',
      bucket: 'e2m-prod-backups',
      httpUrl: 'https://example.org',
    });
    expect(t.gcsEndpoint).toBeUndefined();
    expect(t.vmGcsEndpoint).toBeUndefined();
    expect(t.zone).toBeUndefined();
  });

  it('reads ~/ as the home directory, and the pinned known_hosts and IAP route the writer put in', () => {
    const pinned = YAML.parse(gcp);
    const host = pinned.all.children.e2micro.hosts['e2m-prod'];
    host.ansible_ssh_private_key_file = '~/.ssh/e2m';
    host.e2m_known_hosts_file = 'inventory/gcp.known_hosts';
    host.e2m_ssh_proxy_command = 'gcloud compute start-iap-tunnel e2m-prod %p --listen-on-stdin';
    const t = parseTarget('prod', YAML.stringify(pinned), 'inventory/gcp.yml', '/repo');
    expect(t).toMatchObject({
      keyFile: join(homedir(), '.ssh/e2m'),
      knownHostsFile: '/repo/inventory/gcp.known_hosts',
      proxyCommand: 'gcloud compute start-iap-tunnel e2m-prod %p --listen-on-stdin',
    });
  });

  it('reads the zone from an inventory made with instance_zone, and another file from E2M_INVENTORY', () => {
    const withZone = YAML.parse(gcp);
    withZone.all.children.e2micro.vars.e2m_zone = 'us-west1-b';
    const file = join(mkdtempSync(join(tmpdir(), 'e2m-inv-')), 'prod.yml');
    writeFileSync(file, YAML.stringify(withZone));
    const t = loadTarget('prod', '/repo', { E2M_INVENTORY: file });
    expect(t).toMatchObject({ zone: 'us-west1-b', inventoryFile: file, hostName: 'e2m-prod' });
    expect(() => loadTarget('prod', '/repo', { E2M_INVENTORY: `${file}.missing` })).toThrow(
      `${file}.missing: cannot read it`,
    );
  });

  it('names the file and the env when no host matches', () => {
    expect(() => parseTarget('staging', gcp, 'inventory/gcp.yml', '/repo')).toThrow(
      'inventory/gcp.yml: no host in group e2micro has e2m_env: staging (found: e2m-prod=prod)',
    );
  });
});

describe('parseTarget: errors name the file and the key', () => {
  const broken = (from: string, to: string) => twinYaml.replace(from, to);
  it.each([
    [
      'ansible_port: 2222',
      'ansible_port: ssh',
      'inventory/twin.yml: host twin: ansible_port must be an integer 1-65535 (got "ssh")',
    ],
    ['          ansible_user: ops\n', '', 'inventory/twin.yml: host twin: missing ansible_user'],
    [
      'e2m_tls_mode: internal',
      'e2m_tls_mode: maybe',
      'inventory/twin.yml: host twin: e2m_tls_mode must be internal or acme (got "maybe")',
    ],
    [
      'e2m_http_url: http://127.0.0.1:8080',
      'e2m_http_url: 127.0.0.1:8080',
      'inventory/twin.yml: host twin: e2m_http_url must be an http(s) URL (got "127.0.0.1:8080")',
    ],
    [
      'e2m_backup_bucket: e2m-twin-backups',
      'e2m_backup_bucket: 7',
      'inventory/twin.yml: host twin: e2m_backup_bucket must be a string (got 7)',
    ],
    ['    e2micro:', '    other:', 'inventory/twin.yml: no group "e2micro"'],
  ])('%s -> %s', (from, to, message) => {
    expect(() => parseTarget('twin', broken(from, to), 'inventory/twin.yml', '/repo')).toThrow(message);
  });

  it('rejects unknown target names and bad YAML', () => {
    expect(() => parseTarget('qa', twinYaml, 'f', '/repo')).toThrow(
      'unknown target "qa": expected one of twin, dev, staging, prod',
    );
    expect(() => parseTarget('twin', 'a: [', 'inventory/twin.yml', '/repo')).toThrow(
      /^inventory\/twin.yml: not valid YAML/,
    );
  });

  it('tells how to make the twin inventory when it is missing', () => {
    expect(() => loadTarget('twin', '/nonexistent', {})).toThrow(TargetError);
    expect(() => loadTarget('twin', '/nonexistent', {})).toThrow(
      'inventory/twin.yml: cannot read it (run `npm run twin -- up` first)',
    );
  });
});

describe('resolveTarget: the platform and the host come from one file', () => {
  const out = (value: unknown) => ({ value });
  const vmOutputs = {
    environment: out('prod'),
    domain: out('api.example.com'),
    instance_name: out('e2m-prod'),
    external_ip: out('203.0.113.10'),
    admin_user: out('ops'),
    backup_bucket: out('e2m-prod-backups'),
    project_id: out('e2m-prod-000000'),
  };
  const cloudRunOutputs = {
    ...vmOutputs,
    platform: out('cloud_run'),
    instance_name: out(null),
    region: out('us-central1'),
    cloud_run_service: out('e2m-prod'),
    cloud_run_migrate_job: out('e2m-prod-migrate'),
    cloud_run_url: out('https://e2m-prod-abc123-uc.a.run.app'),
    artifact_registry_repository: out('us-central1-docker.pkg.dev/e2m-prod-000000/e2m-prod'),
  };
  const write = (path: string, outputs: Record<string, unknown>) =>
    writeFileSync(
      path,
      YAML.stringify(inventoryFromOutputs(outputs, { privateKeyFile: 'keys/prod', sshRoute: 'direct' })),
    );
  // The default inventory says Cloud Run; the file E2M_INVENTORY names says VM, and vice versa.
  const root = mkdtempSync(join(tmpdir(), 'e2m-resolve-'));
  mkdirSync(join(root, 'inventory'));
  write(join(root, 'inventory/gcp.yml'), cloudRunOutputs);
  const vmFile = join(root, 'vm.yml');
  write(vmFile, vmOutputs);
  const bare = mkdtempSync(join(tmpdir(), 'e2m-resolve-bare-'));
  const cloudRunFile = join(root, 'inventory/gcp.yml');

  it('takes the default inventory without E2M_INVENTORY', () => {
    const r = resolveTarget('prod', root, {});
    expect(r.platform).toBe('cloud_run');
    expect(r.target).toMatchObject({ service: 'e2m-prod', inventoryFile: 'inventory/gcp.yml' });
  });

  it('takes both the platform and the host from E2M_INVENTORY', () => {
    const vm = resolveTarget('prod', root, { E2M_INVENTORY: vmFile });
    expect(vm.platform).toBe('vm');
    expect(vm.target).toMatchObject({
      host: '203.0.113.10',
      keyFile: join(root, 'keys/prod'),
      inventoryFile: vmFile,
    });
    const cloudRun = resolveTarget('prod', bare, { E2M_INVENTORY: cloudRunFile });
    expect(cloudRun.platform).toBe('cloud_run');
    expect(cloudRun.target.inventoryFile).toBe(cloudRunFile);
  });

  it('reads the VM target when no cloud_run group names the environment, and says when there is no file', () => {
    expect(resolveTarget('prod', bare, { E2M_INVENTORY: vmFile }).platform).toBe('vm');
    expect(() => resolveTarget('prod', bare, {})).toThrow('inventory/gcp.yml: cannot read it');
    expect(() => resolveTarget('staging', root, {})).toThrow(
      'inventory/gcp.yml: no group "e2micro" (expected all.children.e2micro or e2micro)',
    );
  });
});
