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
  /** The warm colour and the end of its window, "<colour> <until, epoch s> <release>": the timers
   * role's e2m-park-warm.path parks the colour when the window ends (timers_park_warm_file). */
  warmFile: '/srv/app/warm',
  /** The app's environment, written by setup from the secrets (root:deploy 0640). */
  envFile: '/etc/e2-micro/app.env',
  /** The proxy switch (caddy role): `sudo -n e2m-proxy-switch blue|green|maintenance`. */
  switchCommand: '/usr/local/sbin/e2m-proxy-switch',
  /** The switch's current target, one word (root-owned, world-readable). */
  switchStateFile: '/var/lib/e2m-proxy/upstream',
  /** A named volume both colours share: the kill switch's file fallback lives here. */
  dataVolume: 'e2m-app-data',
  imageRepo: 'e2m/backend',
} as const;

/** The port the app listens on inside its container (docs/app-contract.md); the deploy sets PORT. */
export const APP_PORT = 3000;

/**
 * Where each target of the proxy switch listens on the VM: one loopback address each, one port
 * for all, because Caddy proxies to a name (reverse_proxy dynamic a) that the switch moves
 * between these addresses (the caddy role's caddy_upstream_* defaults own them).
 */
export const UPSTREAM_PORT = 3000;
export const upstreamAddresses = { blue: '127.0.2.1', green: '127.0.2.2', maintenance: '127.0.2.3' } as const;
export type SwitchTarget = keyof typeof upstreamAddresses;
export const upstreamName = 'e2m-upstream.invalid';

/** A colour's address on the VM's loopback, as `host:port`. */
export const upstreamOf = (colour: Colour) => `${upstreamAddresses[colour]}:${UPSTREAM_PORT}`;

/**
 * How long the verify step waits for the proxy to answer from the new colour. The switch takes
 * effect when Caddy next resolves the name (at most 100 ms after the last lookup); the bound is
 * for a VM under load. The old colour serves until then, and is stopped only after.
 */
export const SWITCH_TIMEOUT_MS = 30_000;

/** Seconds an app gets to drain after SIGTERM before Docker kills it. */
export const DRAIN_TIMEOUT_S = 30;

/**
 * Seconds the previous colour stays warm (running, ready, out of rotation) after a deploy or a
 * rollback, so that a rollback inside the window is only the switch. Sized by memory, not by
 * time: both colours running fit the 1 GB VM (docs/deploy.md, Memory), so the window is how long
 * a bad release usually takes to show; the longest is a day.
 */
export const DEFAULT_WARM_S = 900;
export const MAX_WARM_S = 86_400;

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
