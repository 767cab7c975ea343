// The VM's SSH host keys, for the known_hosts file `npm run infra:inventory` writes beside the
// inventory: read through the Compute API from the guest attributes the guest agent publishes at
// first boot (hostkeys/<type>, with enable-guest-attributes in the VM's metadata,
// terraform/compute.tf), or taken from a known_hosts file the user verified another way.
import { readFileSync } from 'node:fs';
import { InstancesClient } from '@google-cloud/compute';
import { computeOptions, type VmRef } from '../compute-client.ts';
import { InventoryError } from '../gcp-inventory.ts';
import { checkHostKey, type HostKey, hostPattern, knownHostEntries } from '../ssh/known-hosts.ts';

export async function guestAttributeHostKeys(vm: VmRef, endpoint?: string): Promise<HostKey[]> {
  const client = new InstancesClient(computeOptions(endpoint));
  let items: { namespace?: string | null; key?: string | null; value?: string | null }[] = [];
  try {
    const [attrs] = await client.getGuestAttributes({ ...vm, queryPath: 'hostkeys/' });
    items = attrs.queryValue?.items ?? [];
  } catch (e) {
    // The API answers 404 while no attribute exists under the path (the agent has not run yet).
    if ((e as { httpStatusCode?: number }).httpStatusCode !== 404) throw e;
  } finally {
    await client.close();
  }
  const keys = items
    .filter((i) => i.namespace === 'hostkeys' && i.key && i.value)
    .map((i) =>
      checkHostKey({ type: String(i.key), key: String(i.value).trim() }, `guest attribute hostkeys/${i.key}`),
    );
  if (keys.length === 0)
    throw new InventoryError(
      `VM ${vm.instance} (${vm.project}, ${vm.zone}) publishes no host keys in its guest attributes ` +
        '(hostkeys/): the guest agent writes them at first boot when the metadata has ' +
        'enable-guest-attributes = TRUE (terraform/compute.tf). Retry in a minute, or pass ' +
        '--known-hosts FILE with keys you verified another way.',
    );
  return keys;
}

/** The keys `file` pins for host:port, in the same shape. */
export function fileHostKeys(file: string, host: string, port: number): HostKey[] {
  const keys = knownHostEntries(readFileSync(file, 'utf8'), host, port).map((k) => checkHostKey(k, file));
  if (keys.length === 0) throw new InventoryError(`${file} lists no key for ${hostPattern(host, port)}`);
  return keys;
}
