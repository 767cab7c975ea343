// The inventory contract: the Ansible inventory that `npm run twin -- up` writes
// (inventory/twin.yml) and scripts/gcp-inventory.mjs writes from the Terraform outputs
// (inventory/gcp.yml). The playbooks read it (ansible/setup.yml, ansible/group_vars/all/), and so
// do the scripts' targets (./target.ts for a VM, ./cloudrun/target.ts for Cloud Run).
// Its type, its writer and its parser live here: adding a key means a field in an interface
// below, its line in the key table beside it, and the role glue that reads it.
//
// Shape: group `e2micro` holds the VM, one host with the connection variables and the group's
// e2m_* variables; group `cloud_run` (platform = cloud_run) names the service, with no
// connection variables, so playbooks (hosts: e2micro) never touch it.
import { readFileSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { YAML } from 'zx';

export const TARGET_NAMES = ['twin', 'dev', 'staging', 'prod'] as const;
export type TargetName = (typeof TARGET_NAMES)[number];
export const TLS_MODES = ['internal', 'acme'] as const;
export type TlsMode = (typeof TLS_MODES)[number];

type Vars = Record<string, unknown>;
const isObject = (v: unknown): v is Vars => typeof v === 'object' && v !== null && !Array.isArray(v);

export const VM_GROUP = 'e2micro';
export const CLOUD_RUN_GROUP = 'cloud_run';

/** A bad target name or inventory; the message names the file, the host or group, and the key. */
export class TargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetError';
  }
}

/** Variables of the VM's host: how Ansible and the scripts reach it. */
export interface VmHostVars {
  ansible_host: string;
  /** 22 when absent. */
  ansible_port?: number;
  /** The admin user (sudo); the deploy connects as e2m_deploy_user with the same key. */
  ansible_user: string;
  /** Relative paths are relative to the repository root. */
  ansible_ssh_private_key_file: string;
  ansible_ssh_common_args?: string;
  ansible_python_interpreter?: string;
  /** The known_hosts file that pins the VM's host keys; without it the scripts refuse to connect.
   * Relative paths are relative to the repository root. */
  e2m_known_hosts_file?: string;
  /** OpenSSH ProxyCommand the scripts connect through (%h %p %r), e.g. GCP's IAP tunnel. Ansible
   * reads the same command from ansible_ssh_common_args. */
  e2m_ssh_proxy_command?: string;
}

/** Variables of group `e2micro`: the VM's environment. */
export interface VmGroupVars {
  /** The target name; the host whose e2m_env is the target is the target. */
  e2m_env: TargetName;
  e2m_domain: string;
  /** internal: Caddy's own CA (the twin); acme: a public certificate. */
  e2m_tls_mode: TlsMode;
  e2m_project_id: string;
  /** The VM's Compute zone (`terraform output instance_zone`), for `incident console|reset`. */
  e2m_zone?: string;
  /** The unprivileged user the deploy connects as (setup creates it); `deploy` when absent. */
  e2m_deploy_user?: string;
  /** Its authorized public keys, and only these; absent or empty: a copy of the admin's. */
  e2m_deploy_authorized_keys?: string[];
  e2m_backup_bucket: string;
  /** The twin's fake Terraform state bucket; nothing reads it yet. */
  e2m_state_bucket?: string;
  /** GCS as seen from inside the VM; empty or absent means the real Cloud Storage API. */
  e2m_gcs_endpoint?: string;
  /** GCS as seen from this machine (the twin publishes its emulator on loopback). */
  e2m_gcs_host_endpoint?: string;
  /** With an endpoint, the VM's backup job still takes credentials from its metadata server, as
   * on GCP (the twin, which has one). */
  e2m_gcs_auth?: boolean;
  /** The app as seen from this machine. */
  e2m_http_url: string;
  /** The HTTPS site as seen from this machine; https://<domain> when absent. */
  e2m_https_url?: string;
  /** The host is a container, not a VM: the playbooks skip what a container cannot do. */
  e2m_is_twin?: boolean;
  /** The twin is a QEMU guest with a kernel of its own (`twin up --kernel`): kernel settings apply. */
  e2m_twin_kernel?: boolean;
  /** age public keys (space-separated) that every backup is encrypted to (docs/backup.md). */
  e2m_backup_age_recipients?: string;
  /** Each app colour's CPU cap (`docker run --cpus`); 1 when absent. */
  e2m_app_cpus?: number;
}

/** Variables of group `cloud_run`: where the environment's service runs. */
export interface CloudRunVars {
  e2m_env: TargetName;
  e2m_platform: 'cloud_run';
  e2m_domain: string;
  e2m_project_id: string;
  e2m_region: string;
  /** Short service name (e2m-prod). */
  e2m_cloud_run_service: string;
  /** Short name of the job that runs migrations. */
  e2m_cloud_run_migrate_job: string;
  /** The service's own https://...run.app URL. */
  e2m_cloud_run_url: string;
  /** Where images are pushed: REGION-docker.pkg.dev/PROJECT/REPO. */
  e2m_image_repository: string;
  e2m_backup_bucket: string;
  e2m_http_url: string;
  /** The Cloud Run API as http(s)://host:port, for a local fake; never written by gcp-inventory. */
  e2m_cloud_run_api_endpoint?: string;
}

export interface VmGroup {
  hosts: Record<string, VmHostVars>;
  vars: VmGroupVars;
}
export interface CloudRunGroup {
  /** One host named after the service, with no variables. */
  hosts: Record<string, Record<string, never>>;
  vars: CloudRunVars;
}
/** The inventory as written: either group, or both while a migration keeps the VM. */
export interface Inventory {
  all: { children: { [VM_GROUP]?: VmGroup; [CLOUD_RUN_GROUP]?: CloudRunGroup } };
}

// --- the key table: how the parser checks each key ---------------------------------------------

type Check =
  /** A non-empty string, optionally of a shape ("is malformed" otherwise). */
  | { is: 'string'; pattern?: RegExp }
  /** http(s)://host[/path]; trailing slashes are dropped. */
  | { is: 'url' }
  /** http(s)://host[:port] and nothing after. */
  | { is: 'origin' }
  | { is: 'port' }
  | { is: 'cpus' }
  | { is: 'oneOf'; values: readonly string[] };

interface KeySpec {
  required?: true;
  /** Absent: only the playbooks read the key, and they check it themselves. */
  check?: Check;
}

const str: Check = { is: 'string' };
const url: Check = { is: 'url' };
const NAME = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;

// Record<keyof ...>: the compiler keeps each table and its interface to the same keys.
export const VM_HOST_KEYS: Record<keyof VmHostVars, KeySpec> = {
  ansible_host: { required: true, check: str },
  ansible_port: { check: { is: 'port' } },
  ansible_user: { required: true, check: str },
  ansible_ssh_private_key_file: { required: true, check: str },
  ansible_ssh_common_args: {},
  ansible_python_interpreter: {},
  e2m_known_hosts_file: { check: str },
  e2m_ssh_proxy_command: { check: str },
};

export const VM_GROUP_KEYS: Record<keyof VmGroupVars, KeySpec> = {
  e2m_env: { required: true, check: { is: 'oneOf', values: TARGET_NAMES } },
  e2m_domain: { required: true, check: str },
  e2m_tls_mode: { required: true, check: { is: 'oneOf', values: TLS_MODES } },
  e2m_project_id: { required: true, check: str },
  e2m_zone: { check: str },
  e2m_deploy_user: { check: str },
  e2m_deploy_authorized_keys: {},
  e2m_backup_bucket: { required: true, check: str },
  e2m_state_bucket: {},
  e2m_gcs_endpoint: { check: url },
  e2m_gcs_host_endpoint: { check: url },
  e2m_gcs_auth: {},
  e2m_http_url: { required: true, check: url },
  e2m_https_url: { check: url },
  e2m_is_twin: {},
  e2m_twin_kernel: {},
  e2m_backup_age_recipients: {},
  e2m_app_cpus: { check: { is: 'cpus' } },
};

export const CLOUD_RUN_KEYS: Record<keyof CloudRunVars, KeySpec> = {
  e2m_env: { required: true, check: { is: 'oneOf', values: TARGET_NAMES } },
  e2m_platform: { required: true, check: { is: 'oneOf', values: ['cloud_run'] } },
  e2m_domain: { required: true, check: str },
  e2m_project_id: { required: true, check: { is: 'string', pattern: /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/ } },
  e2m_region: { required: true, check: { is: 'string', pattern: /^[a-z]+-[a-z]+[0-9]+$/ } },
  e2m_cloud_run_service: { required: true, check: { is: 'string', pattern: NAME } },
  e2m_cloud_run_migrate_job: { required: true, check: { is: 'string', pattern: NAME } },
  e2m_cloud_run_url: { required: true, check: { is: 'string', pattern: /^https?:\/\/\S+$/ } },
  e2m_image_repository: { required: true, check: str },
  e2m_backup_bucket: { required: true, check: str },
  // For the playbooks' and the user's eyes; the Cloud Run target does not read it.
  e2m_http_url: {},
  e2m_cloud_run_api_endpoint: { check: { is: 'origin' } },
};

/** Every key of the contract, for the test that compares it with what the playbooks read. */
export const INVENTORY_KEYS: readonly string[] = [
  ...new Set([...Object.keys(VM_HOST_KEYS), ...Object.keys(VM_GROUP_KEYS), ...Object.keys(CLOUD_RUN_KEYS)]),
];

// --- writer ------------------------------------------------------------------------------------

export interface WriteOptions {
  /** Comment lines at the top (who wrote the file). */
  header: string;
  /** A comment line before a key, wherever it appears (why it has that value). */
  comments?: Partial<Record<keyof VmHostVars | keyof VmGroupVars | keyof CloudRunVars, string>>;
}

/**
 * The inventory as YAML text, keys in the order given. The shape is maps of scalars (and lists of
 * strings, written as JSON, which is YAML's flow style), so this writes
 * it directly rather than through a general emitter: no line is folded, and a comment can sit
 * above any key. A string is written plain only when the YAML parser reads it back unchanged.
 */
export function inventoryText(inventory: Inventory, { header, comments = {} }: WriteOptions): string {
  const notes: Record<string, string | undefined> = comments;
  const lines = header.split('\n').map((line) => `# ${line}`);
  const emit = (map: Vars, indent: string) => {
    for (const [key, value] of Object.entries(map)) {
      if (value === undefined) continue;
      if (notes[key]) lines.push(`${indent}# ${notes[key]}`);
      if (!isObject(value)) lines.push(`${indent}${scalar(key)}: ${scalar(value)}`);
      else if (Object.keys(value).length === 0) lines.push(`${indent}${scalar(key)}: {}`);
      else {
        lines.push(`${indent}${scalar(key)}:`);
        emit(value, `${indent}  `);
      }
    }
  };
  emit(inventory as unknown as Vars, '');
  return `${lines.join('\n')}\n`;
}

function scalar(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return JSON.stringify(value);
  if (typeof value !== 'string')
    throw new TypeError(`inventory values are scalars (got ${JSON.stringify(value)})`);
  let plain = false;
  try {
    plain = !/[\n\r]/.test(value) && YAML.parse(`k: ${value}`)?.k === value;
  } catch {
    // Not readable plain (say, "a: b"): quote it.
  }
  // A JSON string is a YAML double-quoted scalar.
  return plain ? value : JSON.stringify(value);
}

// --- parser ------------------------------------------------------------------------------------

export function assertTargetName(name: string): asserts name is TargetName {
  if (!(TARGET_NAMES as readonly string[]).includes(name)) {
    throw new TargetError(`unknown target "${name}": expected one of ${TARGET_NAMES.join(', ')}`);
  }
}

/** An inventory's groups as read, before any key is checked. */
export interface ParsedInventory {
  /** The file, as named in messages. */
  file: string;
  groups: { [VM_GROUP]?: Vars; [CLOUD_RUN_GROUP]?: Vars };
}

/** Pure: inventory text -> its groups (under all.children, or at the top level as Ansible allows). */
export function parseInventory(text: string, file: string): ParsedInventory {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new TargetError(`${file}: not valid YAML: ${(e as Error).message}`);
  }
  const group = (name: string): Vars | undefined => {
    if (!isObject(doc)) return undefined;
    const all = isObject(doc.all) ? doc.all : undefined;
    const children = all && isObject(all.children) ? all.children : undefined;
    const g = children?.[name] ?? doc[name];
    return isObject(g) ? g : undefined;
  };
  return { file, groups: { [VM_GROUP]: group(VM_GROUP), [CLOUD_RUN_GROUP]: group(CLOUD_RUN_GROUP) } };
}

export interface VmHost {
  hostName: string;
  /** Host variables over group variables, as Ansible merges them; checked. */
  vars: VmHostVars & VmGroupVars;
}

/** The one host of group e2micro whose e2m_env is `name`, its variables checked. */
export function vmHost(inventory: ParsedInventory, name: TargetName): VmHost {
  const { file } = inventory;
  const group = inventory.groups[VM_GROUP];
  if (!group)
    throw new TargetError(
      `${file}: no group "${VM_GROUP}" (expected all.children.${VM_GROUP} or ${VM_GROUP})`,
    );
  const hosts = isObject(group.hosts) ? group.hosts : {};
  const groupVars = isObject(group.vars) ? group.vars : {};
  const candidates = Object.entries(hosts).map(([hostName, hv]) => ({
    hostName,
    vars: { ...groupVars, ...(isObject(hv) ? hv : {}) },
  }));
  const matches = candidates.filter((c) => c.vars.e2m_env === name);
  if (matches.length === 0) {
    const found = candidates.map((c) => `${c.hostName}=${String(c.vars.e2m_env)}`).join(', ') || 'no hosts';
    throw new TargetError(`${file}: no host in group ${VM_GROUP} has e2m_env: ${name} (found: ${found})`);
  }
  if (matches.length > 1) {
    throw new TargetError(
      `${file}: several hosts in group ${VM_GROUP} have e2m_env: ${name}: ${matches.map((m) => m.hostName).join(', ')}`,
    );
  }
  const { hostName, vars } = matches[0];
  const at = `${file}: host ${hostName}`;
  // Each table lists exactly its interface's keys (Record<keyof ...>), so the checked values are one.
  const checkedVars = { ...checked(vars, VM_HOST_KEYS, at), ...checked(vars, VM_GROUP_KEYS, at) };
  return { hostName, vars: checkedVars as unknown as VmHostVars & VmGroupVars };
}

/** The variables of group cloud_run, checked, when its e2m_env is `name`; else undefined. */
export function cloudRunVars(inventory: ParsedInventory, name: TargetName): CloudRunVars | undefined {
  const group = inventory.groups[CLOUD_RUN_GROUP];
  if (!group) return undefined;
  const vars = isObject(group.vars) ? group.vars : {};
  if (vars.e2m_env !== name) return undefined;
  return checked(
    vars,
    CLOUD_RUN_KEYS,
    `${inventory.file}: group ${CLOUD_RUN_GROUP}`,
  ) as unknown as CloudRunVars;
}

/** The keys of `table` found in `vars`, checked and normalised; empty values count as absent. */
function checked(vars: Vars, table: Record<string, KeySpec>, at: string): Vars {
  const out: Vars = {};
  for (const [key, spec] of Object.entries(table)) {
    const v = vars[key];
    if (v === undefined || v === null || v === '') {
      if (spec.required) throw new TargetError(`${at}: missing ${key}`);
      continue;
    }
    out[key] = spec.check ? checkValue(v, key, spec.check, at) : v;
  }
  return out;
}

function checkValue(v: unknown, key: string, check: Check, at: string): unknown {
  if (check.is === 'port') {
    const port = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)
      throw new TargetError(`${at}: ${key} must be an integer 1-65535 (got ${JSON.stringify(v)})`);
    return port;
  }
  if (check.is === 'cpus') {
    const cpus = typeof v === 'string' && /^\d+(\.\d+)?$/.test(v) ? Number(v) : v;
    if (typeof cpus !== 'number' || !(cpus > 0) || cpus > 64)
      throw new TargetError(
        `${at}: ${key} must be a number of CPUs above 0, such as 1 or 0.5 (got ${JSON.stringify(v)})`,
      );
    return cpus;
  }
  if (check.is === 'oneOf') {
    if (typeof v !== 'string' || !check.values.includes(v))
      throw new TargetError(`${at}: ${key} must be ${check.values.join(' or ')} (got ${JSON.stringify(v)})`);
    return v;
  }
  if (check.is === 'origin') {
    if (typeof v !== 'string' || !/^https?:\/\/[^\s/]+$/.test(v))
      throw new TargetError(`${at}: ${key} must be http(s)://host:port (got ${JSON.stringify(v)})`);
    return v;
  }
  if (typeof v !== 'string')
    throw new TargetError(`${at}: ${key} must be a string (got ${JSON.stringify(v)})`);
  if (check.is === 'url') {
    if (!/^https?:\/\/[^\s/]+(\/\S*)?$/.test(v))
      throw new TargetError(`${at}: ${key} must be an http(s) URL (got "${v}")`);
    return v.replace(/\/+$/, '');
  }
  if (check.pattern && !check.pattern.test(v))
    throw new TargetError(`${at}: ${key} is malformed (got "${v}")`);
  return v;
}

// --- which file --------------------------------------------------------------------------------

/** The inventory a target is in, unless E2M_INVENTORY names another. */
export function inventoryFileFor(name: TargetName): string {
  return name === 'twin' ? 'inventory/twin.yml' : 'inventory/gcp.yml';
}

/** The inventory file cannot be read (not there yet, or no permission). */
export class InventoryUnreadable extends TargetError {}

/**
 * The one rule for where a target's inventory is: the file E2M_INVENTORY names (one per GCP
 * project, as `ansible-playbook -i` takes), else inventory/twin.yml or inventory/gcp.yml; a
 * relative path is under `root`. Both the VM and the Cloud Run target are read through it.
 */
export function readInventory(name: TargetName, root: string, env: NodeJS.ProcessEnv): ParsedInventory {
  const file = env.E2M_INVENTORY || inventoryFileFor(name);
  const path = resolve(root, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    const hint = name === 'twin' && !env.E2M_INVENTORY ? ' (run `npm run twin -- up` first)' : '';
    throw new InventoryUnreadable(`${file}: cannot read it${hint}`);
  }
  return parseInventory(text, isAbsolute(file) ? file : relative(root, path));
}
