// Target name (twin | dev | staging | prod) -> where the VM is and how its environment is named,
// read from the Ansible inventory so that scripts and playbooks share one source of truth:
// inventory/twin.yml (written by `npm run twin -- up`) or inventory/gcp.yml (from terraform output).
// Both have group `e2micro`; the host whose e2m_env equals the target name is the target.
import { readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { YAML } from 'zx';

export const TARGET_NAMES = ['twin', 'dev', 'staging', 'prod'] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

export const INVENTORY_GROUP = 'e2micro';

export interface Target {
  name: TargetName;
  /** The inventory file this came from, relative to the repo root (for messages). */
  inventoryFile: string;
  /** Inventory host name (e.g. "twin"). */
  hostName: string;
  host: string;
  port: number;
  user: string;
  /** The unprivileged user the deploy connects as (setup creates it; same key as the admin). */
  deployUser: string;
  /** Absolute path of the SSH private key. */
  keyFile: string;
  /** Absolute path of a known_hosts file listing the VM's host key, when the inventory names one. */
  knownHostsFile?: string;
  env: TargetName;
  domain: string;
  tlsMode: 'internal' | 'acme';
  projectId: string;
  /** The VM's Compute zone (GCP inventories from `terraform output instance_zone`; not the twin). */
  zone?: string;
  /** The backups bucket. */
  bucket: string;
  /** GCS endpoint as seen from this machine; undefined means the real GCS. */
  gcsEndpoint?: string;
  /** GCS endpoint as seen from inside the VM; undefined means the real GCS. */
  vmGcsEndpoint?: string;
  /** Base URL of the app as seen from this machine. */
  httpUrl: string;
  /** The HTTPS site as seen from this machine (the twin publishes 443 on a loopback port). */
  httpsUrl: string;
}

export class TargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetError';
  }
}

export function inventoryFileFor(name: TargetName): string {
  return name === 'twin' ? 'inventory/twin.yml' : 'inventory/gcp.yml';
}

type Vars = Record<string, unknown>;

function isObject(v: unknown): v is Vars {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function assertTargetName(name: string): asserts name is TargetName {
  if (!(TARGET_NAMES as readonly string[]).includes(name)) {
    throw new TargetError(`unknown target "${name}": expected one of ${TARGET_NAMES.join(', ')}`);
  }
}

/** Pure: inventory text -> validated Target. `file` is used in messages, `root` resolves key paths. */
export function parseTarget(name: string, text: string, file: string, root: string): Target {
  assertTargetName(name);
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new TargetError(`${file}: not valid YAML: ${(e as Error).message}`);
  }
  const group = findGroup(doc);
  if (!group)
    throw new TargetError(
      `${file}: no group "${INVENTORY_GROUP}" (expected all.children.${INVENTORY_GROUP} or ${INVENTORY_GROUP})`,
    );
  const hosts = isObject(group.hosts) ? group.hosts : {};
  const groupVars = isObject(group.vars) ? group.vars : {};
  const candidates = Object.entries(hosts).map(([hostName, hv]) => ({
    hostName,
    vars: { ...groupVars, ...(isObject(hv) ? hv : {}) } as Vars,
  }));
  const matches = candidates.filter((c) => c.vars.e2m_env === name);
  if (matches.length === 0) {
    throw new TargetError(
      `${file}: no host in group ${INVENTORY_GROUP} has e2m_env: ${name} (found: ${candidates.map((c) => `${c.hostName}=${String(c.vars.e2m_env)}`).join(', ') || 'no hosts'})`,
    );
  }
  if (matches.length > 1) {
    throw new TargetError(
      `${file}: several hosts in group ${INVENTORY_GROUP} have e2m_env: ${name}: ${matches.map((m) => m.hostName).join(', ')}`,
    );
  }
  const { hostName, vars } = matches[0];
  const at = `${file}: host ${hostName}`;
  const str = (key: string, optional = false): string | undefined => {
    const v = vars[key];
    if (v === undefined || v === null || v === '') {
      if (optional) return undefined;
      throw new TargetError(`${at}: missing ${key}`);
    }
    if (typeof v !== 'string')
      throw new TargetError(`${at}: ${key} must be a string (got ${JSON.stringify(v)})`);
    return v;
  };
  const url = (key: string, optional = false): string | undefined => {
    const v = str(key, optional);
    if (v !== undefined && !/^https?:\/\/[^\s/]+(\/\S*)?$/.test(v)) {
      throw new TargetError(`${at}: ${key} must be an http(s) URL (got "${v}")`);
    }
    return v?.replace(/\/+$/, '');
  };
  const rawPort = vars.ansible_port ?? 22;
  const port = typeof rawPort === 'string' && /^\d+$/.test(rawPort) ? Number(rawPort) : rawPort;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new TargetError(`${at}: ansible_port must be an integer 1-65535 (got ${JSON.stringify(rawPort)})`);
  }
  const tlsMode = str('e2m_tls_mode') as string;
  if (tlsMode !== 'internal' && tlsMode !== 'acme') {
    throw new TargetError(`${at}: e2m_tls_mode must be internal or acme (got "${tlsMode}")`);
  }
  const abs = (p: string) => (isAbsolute(p) ? p : join(root, p));
  const knownHosts = str('e2m_known_hosts_file', true);
  const vmGcsEndpoint = url('e2m_gcs_endpoint', true);
  const zone = str('e2m_zone', true);
  return {
    name: name as TargetName,
    inventoryFile: file,
    hostName,
    host: str('ansible_host') as string,
    port,
    user: str('ansible_user') as string,
    deployUser: str('e2m_deploy_user', true) ?? 'deploy',
    keyFile: abs(str('ansible_ssh_private_key_file') as string),
    ...(knownHosts ? { knownHostsFile: abs(knownHosts) } : {}),
    env: name as TargetName,
    domain: str('e2m_domain') as string,
    tlsMode,
    projectId: str('e2m_project_id') as string,
    ...(zone ? { zone } : {}),
    bucket: str('e2m_backup_bucket') as string,
    gcsEndpoint: url('e2m_gcs_host_endpoint', true) ?? vmGcsEndpoint,
    vmGcsEndpoint,
    httpUrl: url('e2m_http_url') as string,
    httpsUrl: url('e2m_https_url', true) ?? `https://${str('e2m_domain')}`,
  };
}

function findGroup(doc: unknown): Vars | undefined {
  return inventoryGroup(doc, INVENTORY_GROUP);
}

/** A group of a parsed inventory, under all.children or at the top level. */
export function inventoryGroup(doc: unknown, group: string): Vars | undefined {
  if (!isObject(doc)) return undefined;
  const all = isObject(doc.all) ? doc.all : undefined;
  const children = all && isObject(all.children) ? all.children : undefined;
  const g = children?.[group] ?? doc[group];
  return isObject(g) ? g : undefined;
}

/**
 * Reads inventory/<file> under `root` (or E2M_INVENTORY, e.g. one per GCP project, as
 * `ansible-playbook -i` takes) and resolves the target.
 */
export function loadTarget(name: string, root: string, env: NodeJS.ProcessEnv = process.env): Target {
  assertTargetName(name);
  const file = env.E2M_INVENTORY || inventoryFileFor(name);
  const path = resolve(root, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    const hint = name === 'twin' && !env.E2M_INVENTORY ? ' (run `npm run twin -- up` first)' : '';
    throw new TargetError(`${file}: cannot read it${hint}`);
  }
  return parseTarget(name, text, isAbsolute(file) ? file : relative(root, path), root);
}
