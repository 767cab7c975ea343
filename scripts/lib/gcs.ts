// Cloud Storage client for a target: the real GCS, or the twin's emulator when the target names an
// endpoint. All project code reaches GCS through @google-cloud/storage made here.
import { Storage } from '@google-cloud/storage';

export interface GcsTarget {
  projectId: string;
  /** Undefined for the real GCS; e.g. http://127.0.0.1:4443 for fake-gcs-server. */
  gcsEndpoint?: string;
}

export function createStorage(target: GcsTarget): Storage {
  if (!target.gcsEndpoint) return new Storage({ projectId: target.projectId });
  // An emulator takes no credentials: never look for them (no metadata server, no key file).
  return new Storage({
    projectId: target.projectId,
    apiEndpoint: target.gcsEndpoint,
    useAuthWithCustomEndpoint: false,
  });
}
