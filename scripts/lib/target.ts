// Target name (twin | dev | staging | prod) -> where the VM is and how its environment is named,
// read from the Ansible inventory so that scripts and playbooks share one source of truth:
// inventory/twin.yml (written by `npm run twin -- up`) or inventory/gcp.yml (from terraform output).
// Both have group `e2micro`; the host whose e2m_env equals the target name is the target.
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { type CloudRunTarget, cloudRunTargetOf } from './cloudrun/target.ts';
import {
  assertTargetName,
  type ParsedInventory,
  parseInventory,
  readInventory,
  type TargetName,
  type TlsMode,
  vmHost,
} from './inventory.ts';

export {
  assertTargetName,
  inventoryFileFor,
  TARGET_NAMES,
  TargetError,
  type TargetName,
} from './inventory.ts';

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
  /** OpenSSH ProxyCommand to reach the VM through (GCP: the IAP tunnel), when the inventory names one. */
  proxyCommand?: string;
  env: TargetName;
  domain: string;
  tlsMode: TlsMode;
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
  /** Each app colour's CPU cap (`docker run --cpus`), when the inventory sets one. */
  appCpus?: number;
  /** The HTTPS site as seen from this machine (the twin publishes 443 on a loopback port). */
  httpsUrl: string;
}

/** Pure: inventory text -> validated Target. `file` is used in messages, `root` resolves key paths. */
export function parseTarget(name: string, text: string, file: string, root: string): Target {
  assertTargetName(name);
  return vmTargetOf(parseInventory(text, file), name, root);
}

/** The VM target `name` of a parsed inventory. */
export function vmTargetOf(inventory: ParsedInventory, name: TargetName, root: string): Target {
  const { hostName, vars } = vmHost(inventory, name);
  // `~/` as Ansible reads it (the home directory), else relative to the repository root.
  const abs = (p: string) =>
    p.startsWith('~/') ? join(homedir(), p.slice(2)) : isAbsolute(p) ? p : join(root, p);
  return {
    name,
    inventoryFile: inventory.file,
    hostName,
    host: vars.ansible_host,
    port: vars.ansible_port ?? 22,
    user: vars.ansible_user,
    deployUser: vars.e2m_deploy_user ?? 'deploy',
    keyFile: abs(vars.ansible_ssh_private_key_file),
    ...(vars.e2m_known_hosts_file ? { knownHostsFile: abs(vars.e2m_known_hosts_file) } : {}),
    ...(vars.e2m_ssh_proxy_command ? { proxyCommand: vars.e2m_ssh_proxy_command } : {}),
    env: name,
    domain: vars.e2m_domain,
    tlsMode: vars.e2m_tls_mode,
    projectId: vars.e2m_project_id,
    ...(vars.e2m_zone ? { zone: vars.e2m_zone } : {}),
    bucket: vars.e2m_backup_bucket,
    gcsEndpoint: vars.e2m_gcs_host_endpoint ?? vars.e2m_gcs_endpoint,
    vmGcsEndpoint: vars.e2m_gcs_endpoint,
    httpUrl: vars.e2m_http_url,
    httpsUrl: vars.e2m_https_url ?? `https://${vars.e2m_domain}`,
    ...(vars.e2m_app_cpus ? { appCpus: vars.e2m_app_cpus } : {}),
  };
}

/** The VM target `name` from its inventory under `root` (see readInventory for which file). */
export function loadTarget(name: string, root: string, env: NodeJS.ProcessEnv = process.env): Target {
  assertTargetName(name);
  return vmTargetOf(readInventory(name, root, env), name, root);
}

export type ResolvedTarget =
  | { platform: 'vm'; target: Target }
  | { platform: 'cloud_run'; target: CloudRunTarget };

/**
 * Target name -> a Cloud Run target when its inventory has a `cloud_run` group for it, else the VM
 * target; one file, chosen by one rule (E2M_INVENTORY or the default), for both.
 */
export function resolveTarget(
  name: string,
  root: string,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedTarget {
  assertTargetName(name);
  const inventory = readInventory(name, root, env);
  const cloudRun = cloudRunTargetOf(inventory, name);
  return cloudRun
    ? { platform: 'cloud_run', target: cloudRun }
    : { platform: 'vm', target: vmTargetOf(inventory, name, root) };
}
