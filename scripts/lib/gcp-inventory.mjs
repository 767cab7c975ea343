// Pure: `terraform output -json` (of terraform/) -> the Ansible inventory for the GCP VM.
// The shape is the contract shared with the twin's inventory/twin.yml and read by
// scripts/lib/target.ts: group `e2micro`, one host, connection vars on the host, e2m_* vars on
// the group.

export const INVENTORY_GROUP = 'e2micro';
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
export const OPTIONAL_OUTPUTS = ['ssh_port', 'tls_mode', 'gcs_endpoint'];

export class InventoryError extends Error {
  constructor(message) {
    super(message);
    this.name = 'InventoryError';
  }
}

/** `terraform output -json` wraps each output as {value, type, sensitive}; read one value. */
function outputValue(outputs, key, { optional = false } = {}) {
  const entry = outputs?.[key];
  if (entry === undefined || entry === null || typeof entry !== 'object' || !('value' in entry)) {
    if (optional) return undefined;
    throw new InventoryError(
      `terraform output "${key}" is missing (run terraform apply, then terraform output -json)`,
    );
  }
  return entry.value;
}

function requireString(outputs, key) {
  const v = outputValue(outputs, key);
  if (typeof v !== 'string' || v === '') {
    throw new InventoryError(
      `terraform output "${key}" must be a non-empty string (got ${JSON.stringify(v)})`,
    );
  }
  return v;
}

/**
 * @param {Record<string, {value: unknown}>} outputs parsed `terraform output -json`
 * @param {{privateKeyFile: string}} options path of the admin user's private key, as given by the user
 */
export function inventoryFromOutputs(outputs, { privateKeyFile }) {
  if (typeof outputs !== 'object' || outputs === null || Array.isArray(outputs)) {
    throw new InventoryError('terraform outputs must be a JSON object (terraform output -json)');
  }
  if (typeof privateKeyFile !== 'string' || privateKeyFile === '') {
    throw new InventoryError('the path of the SSH private key is required (--key)');
  }
  const env = requireString(outputs, 'environment');
  if (!ENVIRONMENTS.includes(env)) {
    throw new InventoryError(
      `terraform output "environment" must be one of ${ENVIRONMENTS.join(', ')} (got "${env}")`,
    );
  }
  const rawPort = outputValue(outputs, 'ssh_port', { optional: true }) ?? 22;
  const port = Number(rawPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InventoryError(
      `terraform output "ssh_port" must be a port number (got ${JSON.stringify(rawPort)})`,
    );
  }
  const tlsMode = outputValue(outputs, 'tls_mode', { optional: true }) ?? 'acme';
  const gcsEndpoint = outputValue(outputs, 'gcs_endpoint', { optional: true }) ?? '';
  if (typeof gcsEndpoint !== 'string') {
    throw new InventoryError(
      `terraform output "gcs_endpoint" must be a string (got ${JSON.stringify(gcsEndpoint)})`,
    );
  }
  const domain = requireString(outputs, 'domain');
  const hostName = requireString(outputs, 'instance_name');

  return {
    all: {
      children: {
        [INVENTORY_GROUP]: {
          hosts: {
            [hostName]: {
              ansible_host: requireString(outputs, 'external_ip'),
              ansible_user: requireString(outputs, 'admin_user'),
              ansible_ssh_private_key_file: privateKeyFile,
              ansible_port: port,
            },
          },
          vars: {
            e2m_env: env,
            e2m_domain: domain,
            e2m_tls_mode: tlsMode,
            e2m_backup_bucket: requireString(outputs, 'backup_bucket'),
            // Empty means the real Cloud Storage API (the twin points this at its emulator).
            e2m_gcs_endpoint: gcsEndpoint,
            e2m_project_id: requireString(outputs, 'project_id'),
            e2m_http_url: `https://${domain}`,
          },
        },
      },
    },
  };
}
