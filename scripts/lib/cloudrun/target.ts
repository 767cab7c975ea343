// Target name -> the Cloud Run service it deploys to, when its platform is cloud_run: group
// `cloud_run` of inventory/gcp.yml, written by scripts/gcp-inventory.mjs from the Terraform
// outputs. A target without that group (the twin, any vm-shaped environment) is a VM target,
// resolved by ../target.ts (whose resolveTarget returns either, from one file).
import {
  assertTargetName,
  cloudRunVars,
  InventoryUnreadable,
  type ParsedInventory,
  parseInventory,
  readInventory,
  type TargetName,
} from '../inventory.ts';

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

/** Pure: the Cloud Run target named `name` in the inventory text, or undefined when it has none. */
export function parseCloudRunTarget(name: string, text: string, file: string): CloudRunTarget | undefined {
  assertTargetName(name);
  return cloudRunTargetOf(parseInventory(text, file), name);
}

/** The Cloud Run target `name` of a parsed inventory, or undefined when it has none. */
export function cloudRunTargetOf(inventory: ParsedInventory, name: TargetName): CloudRunTarget | undefined {
  const vars = cloudRunVars(inventory, name);
  if (!vars) return undefined;
  return {
    name,
    platform: 'cloud_run',
    inventoryFile: inventory.file,
    projectId: vars.e2m_project_id,
    region: vars.e2m_region,
    service: vars.e2m_cloud_run_service,
    migrateJob: vars.e2m_cloud_run_migrate_job,
    serviceUrl: vars.e2m_cloud_run_url.replace(/\/+$/, ''),
    imageRepository: vars.e2m_image_repository,
    domain: vars.e2m_domain,
    bucket: vars.e2m_backup_bucket,
    ...(vars.e2m_cloud_run_api_endpoint ? { apiEndpoint: vars.e2m_cloud_run_api_endpoint } : {}),
  };
}

/**
 * The Cloud Run target from the inventory that ../inventory.ts readInventory picks (E2M_INVENTORY
 * or the default, as the VM target), or undefined: a VM target, or no inventory yet.
 */
export function findCloudRunTarget(
  name: string,
  root: string,
  env: NodeJS.ProcessEnv = process.env,
): CloudRunTarget | undefined {
  assertTargetName(name);
  let inventory: ParsedInventory;
  try {
    inventory = readInventory(name, root, env);
  } catch (e) {
    if (e instanceof InventoryUnreadable) return undefined;
    throw e;
  }
  return cloudRunTargetOf(inventory, name);
}
