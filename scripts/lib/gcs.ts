// Cloud Storage client for a target: the real GCS, or the twin's emulator when the target names an
// endpoint. All project code reaches GCS through @google-cloud/storage made here.
import { EventEmitter } from 'node:events';
import { Storage } from '@google-cloud/storage';

// Every streamed download (a manifest read by list and prune, a restore) puts 11 listeners on
// one short-lived response stream: node-fetch 3's inside teeny-request 11 plus its own wiring.
// Bounded per response, not a leak, but Node warns past 10 (MaxListenersExceededWarning on each
// prune). Upstream: googleapis/google-cloud-node#9185, fix proposed in #9254. 16 still lets a
// real leak, which grows without bound, be reported.
const STREAM_LISTENERS = 16;
if (EventEmitter.defaultMaxListeners < STREAM_LISTENERS) EventEmitter.defaultMaxListeners = STREAM_LISTENERS;

export interface GcsTarget {
  projectId: string;
  /** Undefined for the real GCS; e.g. http://127.0.0.1:4443 for fake-gcs-server. */
  gcsEndpoint?: string;
  /** With an endpoint: still take credentials as on GCP (the twin's VM, whose metadata server
   * gives a token the emulator accepts). Without one they are always taken. */
  gcsAuth?: boolean;
}

/** An emulator needs no credentials: look for them (metadata server, key file) only when asked. */
const usesCredentials = (target: GcsTarget) => !target.gcsEndpoint || target.gcsAuth === true;

export function createStorage(target: GcsTarget): Storage {
  if (!target.gcsEndpoint) return new Storage({ projectId: target.projectId });
  return new Storage({
    projectId: target.projectId,
    apiEndpoint: target.gcsEndpoint,
    useAuthWithCustomEndpoint: usesCredentials(target),
  });
}

/**
 * Takes a token now, when the client uses credentials, so that a failure to get one is reported
 * as itself. Inside a streamed upload it surfaces only as the stream's "Cannot call write after a
 * stream was destroyed" (seen on the twin with the backup job unable to read its network
 * interfaces, which Google's auth library probes to tell it is on GCE).
 */
export async function checkCredentials(storage: Storage, target: GcsTarget): Promise<void> {
  if (!usesCredentials(target)) return;
  try {
    await storage.authClient.getAccessToken();
  } catch (e) {
    throw new Error(
      `cannot get Cloud Storage credentials (the metadata server on GCP, else GOOGLE_APPLICATION_CREDENTIALS): ${(e as Error).message ?? e}`,
    );
  }
}
