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
