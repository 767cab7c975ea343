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

export function createStorage(target: GcsTarget): Storage {
  if (!target.gcsEndpoint) return new Storage({ projectId: target.projectId });
  // An emulator needs no credentials: look for them (metadata server, key file) only when asked.
  return new Storage({
    projectId: target.projectId,
    apiEndpoint: target.gcsEndpoint,
    useAuthWithCustomEndpoint: target.gcsAuth === true,
  });
}
