import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { YAML } from 'zx';
import { inventoryFromOutputs } from '../gcp-inventory.ts';
import { loadTarget, TargetError } from '../target.ts';
import { findCloudRunTarget, parseCloudRunTarget } from './target.ts';

// inventory/gcp.yml as scripts/gcp-inventory.mjs writes it for the cloud_run shape during the
// migration (keep_vm): both groups.
const wrap = (values: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(values).map(([k, v]) => [k, { sensitive: false, type: 'string', value: v }]),
  );
const outputs = wrap({
  project_id: 'e2m-prod-000000',
  environment: 'prod',
  platform: 'cloud_run',
  region: 'us-central1',
  instance_name: 'e2m-prod',
  external_ip: '203.0.113.10',
  admin_user: 'ops',
  ssh_port: 22,
  domain: 'api.example.com',
  tls_mode: 'acme',
  backup_bucket: 'e2m-prod-000000-e2m-prod-backups',
  gcs_endpoint: '',
  cloud_run_service: 'e2m-prod',
  cloud_run_migrate_job: 'e2m-prod-migrate',
  cloud_run_url: 'https://e2m-prod-abc123-uc.a.run.app',
  artifact_registry_repository: 'us-central1-docker.pkg.dev/e2m-prod-000000/e2m-prod',
});
const text = YAML.stringify(
  inventoryFromOutputs(outputs, { privateKeyFile: '/keys/e2m', sshRoute: 'direct' }),
);

describe('parseCloudRunTarget', () => {
  it('reads the cloud_run group that gcp-inventory writes', () => {
    expect(parseCloudRunTarget('prod', text, 'inventory/gcp.yml')).toEqual({
      name: 'prod',
      platform: 'cloud_run',
      inventoryFile: 'inventory/gcp.yml',
      projectId: 'e2m-prod-000000',
      region: 'us-central1',
      service: 'e2m-prod',
      migrateJob: 'e2m-prod-migrate',
      serviceUrl: 'https://e2m-prod-abc123-uc.a.run.app',
      imageRepository: 'us-central1-docker.pkg.dev/e2m-prod-000000/e2m-prod',
      domain: 'api.example.com',
      bucket: 'e2m-prod-000000-e2m-prod-backups',
    });
  });

  it('is undefined for another environment or an inventory without the group; the VM target still loads', () => {
    expect(parseCloudRunTarget('dev', text, 'f')).toBeUndefined();
    expect(parseCloudRunTarget('twin', 'e2micro:\n  hosts: {}\n', 'f')).toBeUndefined();
    const root = mkdtempSync(join(tmpdir(), 'e2m-cr-'));
    mkdirSync(join(root, 'inventory'));
    writeFileSync(join(root, 'inventory/gcp.yml'), text);
    expect(findCloudRunTarget('prod', root)?.service).toBe('e2m-prod');
    // the backup job and the migration still reach the VM through the same file
    expect(loadTarget('prod', root)).toMatchObject({ host: '203.0.113.10', keyFile: '/keys/e2m' });
    expect(findCloudRunTarget('staging', root)).toBeUndefined();
    expect(findCloudRunTarget('prod', join(root, 'nowhere'))).toBeUndefined();
  });

  it('names a missing or malformed key, and takes a local API endpoint for fakes', () => {
    const doc = YAML.parse(text);
    const vars = doc.all.children.cloud_run.vars;
    const withVars = (v: Record<string, unknown>) =>
      YAML.stringify({ all: { children: { cloud_run: { hosts: {}, vars: { ...vars, ...v } } } } });
    expect(() => parseCloudRunTarget('prod', withVars({ e2m_region: undefined }), 'f')).toThrow(
      new TargetError('f: group cloud_run: missing e2m_region'),
    );
    expect(() => parseCloudRunTarget('prod', withVars({ e2m_cloud_run_service: 'E2M' }), 'f')).toThrow(
      /malformed/,
    );
    expect(() =>
      parseCloudRunTarget('prod', withVars({ e2m_cloud_run_api_endpoint: 'ftp://x' }), 'f'),
    ).toThrow(/http\(s\):\/\/host:port/);
    expect(
      parseCloudRunTarget('prod', withVars({ e2m_cloud_run_api_endpoint: 'http://127.0.0.1:8123' }), 'f')
        ?.apiEndpoint,
    ).toBe('http://127.0.0.1:8123');
  });
});

describe('findCloudRunTarget and loadTarget read the same file', () => {
  it('honours E2M_INVENTORY, as loadTarget does', () => {
    const root = mkdtempSync(join(tmpdir(), 'e2m-cr-env-'));
    const file = join(root, 'prod.yml');
    writeFileSync(file, text);
    expect(findCloudRunTarget('prod', root, { E2M_INVENTORY: file })).toMatchObject({
      service: 'e2m-prod',
      inventoryFile: file,
    });
    expect(loadTarget('prod', root, { E2M_INVENTORY: file })).toMatchObject({ inventoryFile: file });
    // and no longer takes Cloud Run from inventory/gcp.yml when E2M_INVENTORY names a VM inventory
    mkdirSync(join(root, 'inventory'));
    writeFileSync(join(root, 'inventory/gcp.yml'), text);
    const vmOnly = YAML.parse(text);
    delete vmOnly.all.children.cloud_run;
    writeFileSync(join(root, 'vm.yml'), YAML.stringify(vmOnly));
    expect(findCloudRunTarget('prod', root, { E2M_INVENTORY: join(root, 'vm.yml') })).toBeUndefined();
  });
});
