// Target name -> the Cloud Run service it deploys to, when its platform is cloud_run: group
// `cloud_run` of inventory/gcp.yml, written by scripts/gcp-inventory.mjs from the Terraform
// outputs. A target without that group (the twin, any vm-shaped environment) is a VM target,
// resolved by ../target.ts exactly as before.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { YAML } from 'zx';
import {
  assertTargetName,
  inventoryFileFor,
  inventoryGroup,
  TargetError,
  type TargetName,
} from '../target.ts';

export const CLOUD_RUN_GROUP = 'cloud_run';

export interface CloudRunTarget {
  name: TargetName;
  platform: 'cloud_run';
  inventoryFile: string;
  projectId: string;
  region: string;
  /** Short service name (e2m-prod). */
  service: string;
  /** Short name of the job that runs migrations. */
  migrateJob: string;
  /** The service's own https://...run.app URL. */
  serviceUrl: string;
  /** Where images are pushed: REGION-docker.pkg.dev/PROJECT/REPO. */
  imageRepository: string;
  domain: string;
  bucket: string;
  /**
   * The Cloud Run API as http(s)://host:port, for a local fake; undefined means Google's
   * run.googleapis.com. Never written by gcp-inventory.
   */
  apiEndpoint?: string;
}

const NAME = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Pure: the Cloud Run target named `name` in the inventory text, or undefined when it has none. */
export function parseCloudRunTarget(name: string, text: string, file: string): CloudRunTarget | undefined {
  assertTargetName(name);
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new TargetError(`${file}: not valid YAML: ${(e as Error).message}`);
  }
  const group = inventoryGroup(doc, CLOUD_RUN_GROUP);
  if (!group) return undefined;
  const vars = (typeof group.vars === 'object' && group.vars !== null ? group.vars : {}) as Record<
    string,
    unknown
  >;
  if (vars.e2m_env !== name) return undefined;
  const at = `${file}: group ${CLOUD_RUN_GROUP}`;
  const str = (key: string, pattern?: RegExp): string => {
    const v = vars[key];
    if (typeof v !== 'string' || v === '') throw new TargetError(`${at}: missing ${key}`);
    if (pattern && !pattern.test(v)) throw new TargetError(`${at}: ${key} is malformed (got "${v}")`);
    return v;
  };
  if (vars.e2m_platform !== 'cloud_run') {
    throw new TargetError(`${at}: e2m_platform must be cloud_run (got ${JSON.stringify(vars.e2m_platform)})`);
  }
  const endpoint = vars.e2m_cloud_run_api_endpoint;
  if (endpoint !== undefined && (typeof endpoint !== 'string' || !/^https?:\/\/[^\s/]+$/.test(endpoint))) {
    throw new TargetError(
      `${at}: e2m_cloud_run_api_endpoint must be http(s)://host:port (got ${JSON.stringify(endpoint)})`,
    );
  }
  return {
    name,
    platform: 'cloud_run',
    inventoryFile: file,
    projectId: str('e2m_project_id', /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/),
    region: str('e2m_region', /^[a-z]+-[a-z]+[0-9]+$/),
    service: str('e2m_cloud_run_service', NAME),
    migrateJob: str('e2m_cloud_run_migrate_job', NAME),
    serviceUrl: str('e2m_cloud_run_url', /^https?:\/\/\S+$/).replace(/\/+$/, ''),
    imageRepository: str('e2m_image_repository'),
    domain: str('e2m_domain'),
    bucket: str('e2m_backup_bucket'),
    ...(typeof endpoint === 'string' ? { apiEndpoint: endpoint } : {}),
  };
}

/** The Cloud Run target from inventory/<file> under `root`, or undefined (a VM target, or no inventory yet). */
export function findCloudRunTarget(name: string, root: string): CloudRunTarget | undefined {
  assertTargetName(name);
  const file = inventoryFileFor(name);
  let text: string;
  try {
    text = readFileSync(join(root, file), 'utf8');
  } catch {
    return undefined;
  }
  return parseCloudRunTarget(name, text, file);
}
