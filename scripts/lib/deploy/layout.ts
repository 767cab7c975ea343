// Where things live on the VM. The paths setup.yml creates (ansible/roles/docker, caddy, app_env)
// and the names the deploy gives its containers; one place so the plan and the tests agree. The
// roles' defaults own the paths: layout.test.ts fails when one of them and this file part ways.
export const Colours = ['blue', 'green'] as const;
export type Colour = (typeof Colours)[number];

export const layout = {
  /** Owned by the deploy user (setup creates it). */
  dir: '/srv/app',
  stateFile: '/srv/app/state.json',
  releasesFile: '/srv/app/releases.jsonl',
  auditFile: '/srv/app/audit.jsonl',
  lockDir: '/srv/app/lock',
  /** Each release's pending migrations as its deploy found them (`migrate --dry-run`). */
  schemaDir: '/srv/app/schema',
  imagesDir: '/srv/app/images',
  /** The app's environment, written by setup from the secrets (root:deploy 0640). */
  envFile: '/etc/e2-micro/app.env',
  /** Caddy imports this file; the deploy renames a new one over it and reloads Caddy. */
  upstreamFile: '/etc/caddy/e2m/upstream.caddy',
  /** The maintenance page's directory (the caddy role writes index.html there). */
  maintenanceRoot: '/var/www/e2m-maintenance',
  /** A named volume both colours share: the kill switch's file fallback lives here. */
  dataVolume: 'e2m-app-data',
  imageRepo: 'e2m/backend',
} as const;

export const ports: Record<Colour, number> = { blue: 3001, green: 3002 };

/** The port the app listens on inside its container (docs/app-contract.md); the deploy sets PORT. */
export const APP_PORT = 3000;

/** Seconds an app gets to drain after SIGTERM before Docker kills it. */
export const DRAIN_TIMEOUT_S = 30;

/** Seconds a deploy's lease on the lock lives without its holder's heartbeat: a deploy that
 * died (SSH cut, laptop closed, CI cancelled) blocks the next one for at most this long. */
export const LOCK_LEASE_S = 90;

/** Seconds between a live deploy's heartbeats: four chances to renew before the lease runs out. */
export const LOCK_HEARTBEAT_S = 20;

/** Seconds `IMAGE migrate` may run: an image that ignores its command would serve forever. */
export const MIGRATE_TIMEOUT_S = 300;

export const containerName = (colour: Colour) => `e2m-app-${colour}`;

export const otherColour = (colour: Colour): Colour => (colour === 'blue' ? 'green' : 'blue');

/** Per-colour limits: two colours run side by side during a deploy, inside 1 GB with the stack. */
export const limits = { memory: '256m', cpus: '1', pids: '256' } as const;
