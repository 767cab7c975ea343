import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { YAML } from 'zx';
import { inventoryFromOutputs } from './gcp-inventory.ts';
import {
  CLOUD_RUN_KEYS,
  cloudRunVars,
  INVENTORY_KEYS,
  type Inventory,
  InventoryUnreadable,
  inventoryText,
  parseInventory,
  readInventory,
  TargetError,
  VM_GROUP_KEYS,
  VM_HOST_KEYS,
  vmHost,
} from './inventory.ts';
import { inventoryYaml, resolveConfig } from './twin/plan.ts';

const out = (value: unknown) => ({ value });
/** Both groups, as scripts/gcp-inventory.mjs writes them during a migration (keep_vm). */
const gcp: Inventory = inventoryFromOutputs(
  {
    environment: out('prod'),
    platform: out('cloud_run'),
    domain: out('api.example.com'),
    instance_name: out('e2m-prod'),
    instance_zone: out('us-central1-b'),
    external_ip: out('203.0.113.10'),
    admin_user: out('ops'),
    backup_bucket: out('e2m-prod-000000-e2m-prod-backups'),
    project_id: out('e2m-prod-000000'),
    region: out('us-central1'),
    cloud_run_service: out('e2m-prod'),
    cloud_run_migrate_job: out('e2m-prod-migrate'),
    cloud_run_url: out('https://e2m-prod-abc123-uc.a.run.app'),
    artifact_registry_repository: out('us-central1-docker.pkg.dev/e2m-prod-000000/e2m-prod'),
  },
  // direct: the IAP tunnel's long ProxyCommand is a line YAML.stringify would fold (next test).
  { privateKeyFile: '~/.ssh/e2m_ed25519', sshRoute: 'direct' },
);
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

describe('inventoryText', () => {
  it('writes what the YAML parser reads back, byte for byte what YAML.stringify wrote before', () => {
    const text = inventoryText(gcp, { header: 'Written by a test.' });
    expect(YAML.parse(text)).toEqual(gcp);
    expect(text).toBe(`# Written by a test.\n${YAML.stringify(gcp)}`);
  });

  it('quotes what would not read back plain, never folds a line, and puts comments above keys', () => {
    const awkward = ['', 'a: b', 'x #y', 'true', '22', ' lead', '- dash', 'null', '~', 'it\'s "quoted"'];
    const long = `-o UserKnownHostsFile=/${'deep/'.repeat(30)}known_hosts -o StrictHostKeyChecking=yes`;
    const inv = structuredClone(gcp);
    const host = inv.all.children.e2micro?.hosts['e2m-prod'];
    if (!host) throw new Error('fixture has no VM host');
    host.ansible_ssh_common_args = long;
    awkward.forEach((v, i) => {
      (host as unknown as Record<string, string>)[`x_${i}`] = v;
    });
    const text = inventoryText(inv, {
      header: 'line one\nline two',
      comments: { ansible_ssh_common_args: 'why this value' },
    });
    expect(YAML.parse(text)).toEqual(inv);
    expect(text.startsWith('# line one\n# line two\nall:\n')).toBe(true);
    expect(text).toContain(`          # why this value\n          ansible_ssh_common_args: ${long}\n`);
    expect(text).toContain('x_0: ""\n');
  });

  it('writes the twin inventory with its comments, in the shape of the committed example', () => {
    const text = inventoryYaml(twinCfg);
    expect(text).toContain(
      "        # The app as seen from this machine (the twin's ports 80/443 are published on loopback).\n        e2m_http_url: http://127.0.0.1:8080\n",
    );
    const example = readFileSync(new URL('../../inventory/twin.example.yml', import.meta.url), 'utf8');
    const strip = (s: string) => s.replace(/\/path\/to\/repo|\/repo/g, 'ROOT');
    expect(YAML.parse(strip(text))).toEqual(YAML.parse(strip(example)));
  });
});

describe('parseInventory and the group readers', () => {
  const text = inventoryText(gcp, { header: 'h' });

  it('reads the VM host, host variables over group variables, and the Cloud Run group', () => {
    const inv = parseInventory(text, 'inventory/gcp.yml');
    expect(vmHost(inv, 'prod')).toEqual({
      hostName: 'e2m-prod',
      vars: {
        ...gcp.all.children.e2micro?.hosts['e2m-prod'],
        ...gcp.all.children.e2micro?.vars,
        e2m_gcs_endpoint: undefined,
      },
    });
    expect(cloudRunVars(inv, 'prod')).toEqual(gcp.all.children.cloud_run?.vars);
    expect(cloudRunVars(inv, 'staging')).toBeUndefined();
    const topLevel = parseInventory(YAML.stringify(gcp.all.children), 'f');
    expect(vmHost(topLevel, 'prod').hostName).toBe('e2m-prod');
    expect(cloudRunVars(topLevel, 'prod')?.e2m_region).toBe('us-central1');
  });

  it('normalises a quoted port and URLs with trailing slashes, and leaves empty values out', () => {
    const doc = YAML.parse(text);
    doc.all.children.e2micro.hosts['e2m-prod'].ansible_port = '2222';
    doc.all.children.e2micro.vars.e2m_http_url = 'https://api.example.com//';
    doc.all.children.e2micro.vars.e2m_zone = '';
    const { vars } = vmHost(parseInventory(YAML.stringify(doc), 'f'), 'prod');
    expect(vars.ansible_port).toBe(2222);
    expect(vars.e2m_http_url).toBe('https://api.example.com');
    expect(vars).not.toHaveProperty('e2m_zone');
  });

  // Each kind of check, with the message that names the file, where, and the key.
  const vmAt = 'inventory/gcp.yml: host e2m-prod';
  const crAt = 'inventory/gcp.yml: group cloud_run';
  it.each([
    ['e2micro', 'ansible_host', undefined, `${vmAt}: missing ansible_host`],
    ['e2micro', 'ansible_port', 0, `${vmAt}: ansible_port must be an integer 1-65535 (got 0)`],
    ['e2micro', 'ansible_user', ['ops'], `${vmAt}: ansible_user must be a string (got ["ops"])`],
    ['e2micro', 'e2m_tls_mode', 'self', `${vmAt}: e2m_tls_mode must be internal or acme (got "self")`],
    [
      'e2micro',
      'e2m_app_cpus',
      'half',
      `${vmAt}: e2m_app_cpus must be a number of CPUs above 0, such as 1 or 0.5 (got "half")`,
    ],
    [
      'e2micro',
      'e2m_gcs_endpoint',
      'gcs:4443',
      `${vmAt}: e2m_gcs_endpoint must be an http(s) URL (got "gcs:4443")`,
    ],
    ['cloud_run', 'e2m_platform', undefined, `${crAt}: missing e2m_platform`],
    ['cloud_run', 'e2m_platform', 'gke', `${crAt}: e2m_platform must be cloud_run (got "gke")`],
    ['cloud_run', 'e2m_region', 'Central', `${crAt}: e2m_region is malformed (got "Central")`],
    ['cloud_run', 'e2m_cloud_run_service', 7, `${crAt}: e2m_cloud_run_service must be a string (got 7)`],
    [
      'cloud_run',
      'e2m_cloud_run_api_endpoint',
      'http://127.0.0.1:1/v2',
      `${crAt}: e2m_cloud_run_api_endpoint must be http(s)://host:port (got "http://127.0.0.1:1/v2")`,
    ],
  ])('%s %s = %j', (group, key, value, message) => {
    const doc = YAML.parse(text);
    const where =
      group === 'e2micro' && key.startsWith('ansible_')
        ? doc.all.children.e2micro.hosts['e2m-prod']
        : doc.all.children[group].vars;
    if (value === undefined) delete where[key];
    else where[key] = value;
    const inv = parseInventory(YAML.stringify(doc), 'inventory/gcp.yml');
    const read = () => (group === 'e2micro' ? vmHost(inv, 'prod') : cloudRunVars(inv, 'prod'));
    expect(read).toThrow(TargetError);
    expect(read).toThrow(message);
  });

  it('names the file when the YAML does not parse', () => {
    expect(() => parseInventory('all: [', 'inventory/gcp.yml')).toThrow(
      /^inventory\/gcp.yml: not valid YAML/,
    );
  });
});

describe('readInventory: which file', () => {
  const root = mkdtempSync(join(tmpdir(), 'e2m-inventory-'));
  mkdirSync(join(root, 'inventory'));
  mkdirSync(join(root, 'elsewhere'));
  writeFileSync(join(root, 'inventory/gcp.yml'), inventoryText(gcp, { header: 'default' }));
  const other = structuredClone(gcp);
  delete other.all.children.cloud_run;
  writeFileSync(join(root, 'elsewhere/prod.yml'), inventoryText(other, { header: 'other' }));

  it('reads inventory/gcp.yml, or the file E2M_INVENTORY names (relative to the root, or absolute)', () => {
    expect(readInventory('prod', root, {}).file).toBe('inventory/gcp.yml');
    expect(readInventory('prod', root, {}).groups.cloud_run).toBeDefined();
    const relative = readInventory('prod', root, { E2M_INVENTORY: 'elsewhere/prod.yml' });
    expect(relative.file).toBe('elsewhere/prod.yml');
    expect(relative.groups.cloud_run).toBeUndefined();
    const absolute = join(root, 'elsewhere/prod.yml');
    expect(readInventory('prod', '/', { E2M_INVENTORY: absolute }).file).toBe(absolute);
  });

  it('says which file it cannot read, with how to make the twin one', () => {
    expect(() => readInventory('twin', root, {})).toThrow(InventoryUnreadable);
    expect(() => readInventory('twin', root, {})).toThrow(
      'inventory/twin.yml: cannot read it (run `npm run twin -- up` first)',
    );
    expect(() => readInventory('twin', root, { E2M_INVENTORY: 'nope.yml' })).toThrow(
      /^nope.yml: cannot read it$/,
    );
  });
});

describe('the contract covers what reads it', () => {
  it('lists every e2m_* variable the playbooks take from the inventory', () => {
    const ansible = new URL('../../ansible/', import.meta.url);
    const groupVars = new URL('group_vars/all/', ansible);
    const files = [
      new URL('setup.yml', ansible),
      ...readdirSync(groupVars).map((f) => new URL(f, groupVars)),
    ].map((u) => readFileSync(u, 'utf8'));
    // What group_vars define themselves is theirs, not the inventory's.
    const defined = new Set(files.flatMap((t) => [...t.matchAll(/^(e2m_\w+):/gm)].map((m) => m[1])));
    const read = new Set(files.flatMap((t) => [...t.matchAll(/\b(e2m_\w+)\b/g)].map((m) => m[1])));
    const fromInventory = [...read].filter((k) => !defined.has(k)).sort();
    expect(fromInventory.length).toBeGreaterThan(5);
    for (const key of fromInventory) expect(INVENTORY_KEYS, key).toContain(key);
  });

  it('has one table entry per key, each key in one table per group', () => {
    expect(INVENTORY_KEYS).toContain('e2m_zone');
    expect(INVENTORY_KEYS).toContain('e2m_cloud_run_api_endpoint');
    expect(Object.keys(VM_HOST_KEYS).filter((k) => k in VM_GROUP_KEYS)).toEqual([]);
    expect(Object.keys(CLOUD_RUN_KEYS).every((k) => k.startsWith('e2m_'))).toBe(true);
  });
});
