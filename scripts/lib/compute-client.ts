// Options for the @google-cloud/compute clients (REST transport): the real API with Application
// Default Credentials (gcloud auth application-default login), or, with `endpoint`, a local
// stand-in (tests: test/support/compute-fake.ts) over plain http with no credentials looked up.
// Used by `incident console|reset` and by `npm run infra:inventory` (the VM's host keys).
import type { InstancesClient } from '@google-cloud/compute';
import { PassThroughClient } from 'google-auth-library';

/** How the Compute API names a VM. */
export interface VmRef {
  project: string;
  zone: string;
  instance: string;
}

type ClientOptions = ConstructorParameters<typeof InstancesClient>[0];

export function computeOptions(endpoint?: string): ClientOptions {
  if (!endpoint) return { fallback: true };
  const url = new URL(endpoint);
  return {
    apiEndpoint: url.hostname,
    port: Number(url.port || (url.protocol === 'http:' ? 80 : 443)),
    // google-gax's REST transport builds `${protocol}://${apiEndpoint}:${port}`.
    protocol: url.protocol.replace(':', ''),
    fallback: true,
    // An emulator takes no credentials: never look for them (no metadata server, no key file).
    authClient: new PassThroughClient(),
  } as ClientOptions;
}
