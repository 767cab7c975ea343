// Pure: `terraform output -json` (of terraform/) -> the Ansible inventory for the GCP VM, in the
// shape ./inventory.ts declares (the contract shared with the twin's inventory/twin.yml). In the
// cloud_run shape (terraform/cloud_run.tf) a second group, `cloud_run`, names the service and
// where it runs. The e2micro group is there while a VM is (the vm shape, or keep_vm during the
// migration).
import {
  CLOUD_RUN_GROUP,
  type CloudRunGroup,
  type Inventory,
  type TargetName,
  type TlsMode,
  VM_GROUP,
  type VmGroup,
} from './inventory.ts';

const PLATFORMS = ['vm', 'cloud_run'];
const ENVIRONMENTS = ['dev', 'staging', 'prod'];

/** Outputs of terraform/outputs.tf this reads (the optional ones fall back to the GCP defaults). */
export const REQUIRED_OUTPUTS = [
  'environment',
  'domain',
  'instance_name',
  'external_ip',
  'admin_user',
  'backup_bucket',
  'project_id',
];
export const OPTIONAL_OUTPUTS = ['ssh_port', 'tls_mode', 'gcs_endpoint', 'platform', 'instance_zone'];
/** Read when platform is cloud_run. */
export const CLOUD_RUN_OUTPUTS = [
  'region',
  'cloud_run_service',
  'cloud_run_url',
  'artifact_registry_repository',
];

export class InventoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InventoryError';
  }
}

/** Parsed `terraform output -json`: each output wrapped as {value, type, sensitive}. */
type Outputs = Record<string, unknown>;

/** Read one output's value. */
function outputValue(outputs: Outputs, key: string, { optional = false } = {}): unknown {
  const entry = outputs[key];
  if (entry === undefined || entry === null || typeof entry !== 'object' || !('value' in entry)) {
    if (optional) return undefined;
    throw new InventoryError(
      `terraform output "${key}" is missing (run terraform apply, then terraform output -json)`,
    );
  }
  return entry.value;
}

function requireString(outputs: Outputs, key: string): string {
  const v = outputValue(outputs, key);
  if (typeof v !== 'string' || v === '') {
    throw new InventoryError(
      `terraform output "${key}" must be a non-empty string (got ${JSON.stringify(v)})`,
    );
  }
  return v;
}

export const SSH_ROUTES = ['iap', 'direct'] as const;
/** iap: through `gcloud compute start-iap-tunnel` (the default firewall opens 22 to IAP only);
 * direct: straight to the external IP (ssh_source_ranges lists your own address). */
export type SshRoute = (typeof SSH_ROUTES)[number];

/** The known_hosts file that pins the VM's keys: as the scripts find it (repository-relative or
 * absolute) and as Ansible, which runs from ansible/, finds it. */
export interface KnownHostsRef {
  file: string;
  ansibleFile: string;
}

export interface InventoryOptions {
  /** Path of the admin user's private key, as given by the user; not needed without a VM. */
  privateKeyFile?: string;
  /** Default iap. */
  sshRoute?: SshRoute;
  knownHosts?: KnownHostsRef;
  /** The deploy user's own public keys (CI's), instead of a copy of the admin's. */
  deployKeys?: string[];
}

// GCE names (RFC 1035 labels) and project ids: nothing a shell would read as more than a word.
const GCE_NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** OpenSSH ProxyCommand through Identity-Aware Proxy's TCP forwarding: gcloud carries the SSH
 * bytes over its stdin/stdout, so nothing listens on a local port. */
export function iapProxyCommand(instance: string, project: string, zone: string): string {
  for (const [what, v] of Object.entries({ instance, project, zone }))
    if (!GCE_NAME.test(v)) throw new InventoryError(`${what} "${v}" is not a GCE name`);
  return `gcloud compute start-iap-tunnel ${instance} %p --listen-on-stdin --project=${project} --zone=${zone} --verbosity=warning`;
}

/** @param outputs parsed `terraform output -json` */
export function inventoryFromOutputs(
  outputs: unknown,
  { privateKeyFile, sshRoute = 'iap', knownHosts, deployKeys }: InventoryOptions,
): Inventory {
  if (typeof outputs !== 'object' || outputs === null || Array.isArray(outputs)) {
    throw new InventoryError('terraform outputs must be a JSON object (terraform output -json)');
  }
  const out = outputs as Outputs;
  const env = requireString(out, 'environment');
  if (!ENVIRONMENTS.includes(env)) {
    throw new InventoryError(
      `terraform output "environment" must be one of ${ENVIRONMENTS.join(', ')} (got "${env}")`,
    );
  }
  const rawPort = outputValue(out, 'ssh_port', { optional: true }) ?? 22;
  const port = Number(rawPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InventoryError(
      `terraform output "ssh_port" must be a port number (got ${JSON.stringify(rawPort)})`,
    );
  }
  const tlsMode = (outputValue(out, 'tls_mode', { optional: true }) ?? 'acme') as TlsMode;
  const gcsEndpoint = outputValue(out, 'gcs_endpoint', { optional: true }) ?? '';
  if (typeof gcsEndpoint !== 'string') {
    throw new InventoryError(
      `terraform output "gcs_endpoint" must be a string (got ${JSON.stringify(gcsEndpoint)})`,
    );
  }
  const domain = requireString(out, 'domain');
  const platform = outputValue(out, 'platform', { optional: true }) ?? 'vm';
  if (typeof platform !== 'string' || !PLATFORMS.includes(platform)) {
    throw new InventoryError(
      `terraform output "platform" must be one of ${PLATFORMS.join(', ')} (got ${JSON.stringify(platform)})`,
    );
  }
  if (!SSH_ROUTES.includes(sshRoute))
    throw new InventoryError(`the SSH route must be one of ${SSH_ROUTES.join(', ')} (got "${sshRoute}")`);
  const vm = {
    env: env as TargetName,
    domain,
    port,
    tlsMode,
    gcsEndpoint,
    privateKeyFile,
    sshRoute,
    knownHosts,
    deployKeys,
  };
  const children: Inventory['all']['children'] = {};
  // Without a VM (cloud_run shape after the migration) instance_name is null.
  if (platform === 'vm' || outputValue(out, 'instance_name') !== null) children[VM_GROUP] = vmGroup(out, vm);
  if (platform === 'cloud_run') children[CLOUD_RUN_GROUP] = cloudRunGroup(out, env as TargetName, domain);
  return { all: { children } };
}

interface VmSettings {
  env: TargetName;
  domain: string;
  port: number;
  tlsMode: TlsMode;
  gcsEndpoint: string;
  privateKeyFile?: string;
  sshRoute: SshRoute;
  knownHosts?: KnownHostsRef;
  deployKeys?: string[];
}

function vmGroup(
  outputs: Outputs,
  { env, domain, port, tlsMode, gcsEndpoint, privateKeyFile, sshRoute, knownHosts, deployKeys }: VmSettings,
): VmGroup {
  if (typeof privateKeyFile !== 'string' || privateKeyFile === '') {
    throw new InventoryError('the path of the SSH private key is required (--key)');
  }
  const hostName = requireString(outputs, 'instance_name');
  // The zone is what `incident console|reset` need when SSH is gone (the Compute API names a VM
  // by project, zone and name); states from before this output have none, and then --zone does.
  const zone = outputValue(outputs, 'instance_zone', { optional: true });
  if (zone != null && (typeof zone !== 'string' || zone === '')) {
    throw new InventoryError(
      `terraform output "instance_zone" must be a zone name (got ${JSON.stringify(zone)})`,
    );
  }
  const project = requireString(outputs, 'project_id');
  if (sshRoute === 'iap' && !zone)
    throw new InventoryError(
      'the IAP route needs terraform output "instance_zone" (terraform apply adds it), or --ssh direct',
    );
  const proxy = sshRoute === 'iap' ? iapProxyCommand(hostName, project, zone as string) : undefined;
  // Ansible's ssh gets the same pinning and route as the scripts' node-ssh (runner.ts).
  const sshArgs = [
    ...(knownHosts
      ? [`-o UserKnownHostsFile=${knownHosts.ansibleFile}`, '-o StrictHostKeyChecking=yes']
      : []),
    ...(proxy ? [`-o ProxyCommand="${proxy}"`] : []),
  ];
  return {
    hosts: {
      [hostName]: {
        ansible_host: requireString(outputs, 'external_ip'),
        ansible_user: requireString(outputs, 'admin_user'),
        ansible_ssh_private_key_file: privateKeyFile,
        ansible_port: port,
        ...(sshArgs.length ? { ansible_ssh_common_args: sshArgs.join(' ') } : {}),
        ...(knownHosts ? { e2m_known_hosts_file: knownHosts.file } : {}),
        ...(proxy ? { e2m_ssh_proxy_command: proxy } : {}),
      },
    },
    vars: {
      e2m_env: env,
      e2m_domain: domain,
      e2m_tls_mode: tlsMode,
      e2m_backup_bucket: requireString(outputs, 'backup_bucket'),
      // Empty means the real Cloud Storage API (the twin points this at its emulator).
      e2m_gcs_endpoint: gcsEndpoint,
      e2m_project_id: project,
      ...(zone ? { e2m_zone: zone as string } : {}),
      ...(deployKeys?.length ? { e2m_deploy_authorized_keys: deployKeys } : {}),
      e2m_http_url: `https://${domain}`,
    },
  };
}

function cloudRunGroup(outputs: Outputs, env: TargetName, domain: string): CloudRunGroup {
  const service = requireString(outputs, 'cloud_run_service');
  return {
    hosts: { [service]: {} },
    vars: {
      e2m_env: env,
      e2m_platform: 'cloud_run',
      e2m_domain: domain,
      e2m_project_id: requireString(outputs, 'project_id'),
      e2m_region: requireString(outputs, 'region'),
      e2m_cloud_run_service: service,
      e2m_cloud_run_migrate_job: requireString(outputs, 'cloud_run_migrate_job'),
      e2m_cloud_run_url: requireString(outputs, 'cloud_run_url'),
      e2m_image_repository: requireString(outputs, 'artifact_registry_repository'),
      e2m_backup_bucket: requireString(outputs, 'backup_bucket'),
      e2m_http_url: `https://${domain}`,
    },
  };
}
