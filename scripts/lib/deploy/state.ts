// Pure: the deploy's view of the VM, parsed from what read-only commands print, and the
// decisions taken on it (which colour is next, what to roll back to, which images to keep).
import { type Colour, Colours, containerName, otherColour } from './layout.ts';

export type Outcome = 'deployed' | 'failed' | 'rolled-back';

/** One line of releases.jsonl: every attempt, successful or not. */
export interface ReleaseRecord {
  id: string;
  image: string;
  imageId: string;
  gitSha: string;
  time: string;
  who: string;
  outcome: Outcome;
  colour: Colour;
  durationMs?: number;
  failedStep?: string;
  error?: string;
}

export interface ActiveState {
  colour: Colour;
  release: string;
  image: string;
  since: string;
}

export interface ContainerInfo {
  name: string;
  colour: Colour;
  release: string;
  running: boolean;
  image: string;
}

export interface ImageInfo {
  ref: string;
  tag: string;
  id: string;
  sizeBytes: number;
}

export interface LockHolder {
  who: string;
  host: string;
  command: string;
  pid: number;
  time: string;
}

/** The previous colour, left running out of rotation until `until` (the warm file). */
export interface WarmState {
  colour: Colour;
  release: string;
  /** ISO time the parker stops it (the VM's clock). */
  until: string;
}

export interface VmView {
  active?: ActiveState;
  warm?: WarmState;
  releases: ReleaseRecord[];
  containers: ContainerInfo[];
  images: ImageInfo[];
  lock?: LockHolder;
  /** Chain ids of every layer the VM's images hold (layers.ts), read by a deploy that ships an image; it ships only the others. */
  layers?: string[];
}

export class StateError extends Error {}

const jsonLines = <T>(text: string, what: string): T[] =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .flatMap((l, i) => {
      try {
        return [JSON.parse(l) as T];
      } catch {
        throw new StateError(`${what}: line ${i + 1} is not JSON: ${l.slice(0, 80)}`);
      }
    });

export function parseActive(text: string): ActiveState | undefined {
  if (!text.trim()) return undefined;
  const v = JSON.parse(text);
  if (!Colours.includes(v.colour) || typeof v.release !== 'string')
    throw new StateError(`state.json: unexpected content: ${text.slice(0, 120)}`);
  return v as ActiveState;
}

/** The warm file, "<colour> <until, epoch s> <release>"; anything else is no warm colour (the
 * parker ignores and removes such a file too). */
export function parseWarm(text: string): WarmState | undefined {
  const [colour, until, release = ''] = text.trim().split(/\s+/);
  if (!Colours.includes(colour as Colour) || !/^\d+$/.test(until ?? '')) return undefined;
  return { colour: colour as Colour, release, until: new Date(Number(until) * 1000).toISOString() };
}

/** The warm colour a rollback can switch to at once: warm, and its container running that release. */
export function warmContainer(view: VmView): ContainerInfo | undefined {
  const w = view.warm;
  const c = w ? containerOf(view, w.colour) : undefined;
  return c?.running && c.release === w?.release ? c : undefined;
}

export const parseReleases = (text: string) => jsonLines<ReleaseRecord>(text, 'releases.jsonl');

/** `docker ps --format '{{json .}}'` lines -> our containers (labels say colour and release). */
export function parseContainers(text: string): ContainerInfo[] {
  return jsonLines<{ Names: string; Labels: string; State: string; Image: string }>(
    text,
    'docker ps',
  ).flatMap((c) => {
    const labels = Object.fromEntries(c.Labels.split(',').map((kv) => kv.split('=') as [string, string]));
    const colour = labels['e2m.colour'] as Colour;
    if (!Colours.includes(colour)) return [];
    return [
      {
        name: c.Names,
        colour,
        release: labels['e2m.release'] ?? '',
        running: c.State === 'running',
        image: c.Image,
      },
    ];
  });
}

const SIZE_UNITS: Record<string, number> = { B: 1, kB: 1e3, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 };

export function parseSize(text: string): number {
  const m = /^([\d.]+)\s*([kKMGT]?B)$/.exec(text.trim());
  if (!m) return 0;
  return Math.round(Number(m[1]) * SIZE_UNITS[m[2]]);
}

export function parseImages(text: string): ImageInfo[] {
  return jsonLines<{ Repository: string; Tag: string; ID: string; Size: string }>(
    text,
    'docker image ls',
  ).map((i) => ({
    ref: `${i.Repository}:${i.Tag}`,
    tag: i.Tag,
    id: i.ID,
    sizeBytes: parseSize(i.Size),
  }));
}

export function parseLock(text: string): LockHolder | undefined {
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text) as LockHolder;
  } catch {
    return { who: 'unknown', host: 'unknown', command: 'unknown', pid: 0, time: new Date(0).toISOString() };
  }
}

/** A lock older than this is reported as stale (its deploy died without unlocking). */
export const STALE_LOCK_MS = 30 * 60 * 1000;

export const lockAgeMs = (lock: LockHolder, now: Date) => now.getTime() - Date.parse(lock.time);
export const isStale = (lock: LockHolder, now: Date) => lockAgeMs(lock, now) > STALE_LOCK_MS;

/** The colour a deploy starts: the one not serving (blue on the first deploy). */
export const nextColour = (view: VmView): Colour => (view.active ? otherColour(view.active.colour) : 'blue');

export const containerOf = (view: VmView, colour: Colour) =>
  view.containers.find((c) => c.name === containerName(colour));

/** Releases that reached production, newest first, one entry per id. */
export function deployedReleases(view: VmView): ReleaseRecord[] {
  const seen = new Set<string>();
  return [...view.releases]
    .reverse()
    .filter((r) => r.outcome === 'deployed' || r.outcome === 'rolled-back')
    .filter((r) => {
      if (seen.has(r.id)) return false;
      seen.add(r.id);
      return true;
    });
}

/** What `rollback [RELEASE]` goes back to: the named release, or the newest one before the current. */
export function rollbackTarget(view: VmView, requested?: string): ReleaseRecord {
  const current = view.active?.release;
  const candidates = deployedReleases(view);
  if (requested) {
    const r = candidates.find((c) => c.id === requested);
    if (!r) {
      throw new StateError(
        `release ${requested} was never deployed on this VM (known: ${candidates.map((c) => c.id).join(', ') || 'none'})`,
      );
    }
    if (r.id === current) throw new StateError(`release ${requested} is already the one serving`);
    return r;
  }
  const previous = candidates.find((c) => c.id !== current);
  if (!previous) throw new StateError('no earlier release to roll back to');
  return previous;
}

const PROTECTED_TAG = /^(latest|stable|v?\d+\.\d+\.\d+([-+][\w.]+)?)$/;

export interface RetentionPlan {
  keep: { ref: string; why: string }[];
  remove: ImageInfo[];
  freedBytes: number;
}

/**
 * Image retention: keep the `keep` most recently deployed releases, anything a container uses
 * (the active colour and the one kept for rollback), and tags latest, stable or a semantic
 * version; remove the rest.
 */
export function retention(view: VmView, keep: number): RetentionPlan {
  if (!Number.isInteger(keep) || keep < 1)
    throw new StateError(`--keep must be a whole number of at least 1 (got ${keep})`);
  const recent = new Set(
    deployedReleases(view)
      .slice(0, keep)
      .map((r) => r.id),
  );
  const inUse = new Set(view.containers.map((c) => c.image));
  const plan: RetentionPlan = { keep: [], remove: [], freedBytes: 0 };
  for (const img of view.images) {
    const why = PROTECTED_TAG.test(img.tag)
      ? `tag ${img.tag} is always kept`
      : inUse.has(img.ref) || inUse.has(img.id)
        ? 'used by a container'
        : recent.has(img.tag)
          ? `one of the ${keep} most recent releases`
          : undefined;
    if (why) plan.keep.push({ ref: img.ref, why });
    else plan.remove.push(img);
  }
  // Tags sharing an image id free nothing until the last goes; count each id once.
  const keptIds = new Set(view.images.filter((i) => plan.keep.some((k) => k.ref === i.ref)).map((i) => i.id));
  const freedIds = new Map(plan.remove.filter((i) => !keptIds.has(i.id)).map((i) => [i.id, i.sizeBytes]));
  plan.freedBytes = [...freedIds.values()].reduce((a, b) => a + b, 0);
  return plan;
}

/**
 * The proxy is the truth about what serves. When `state.json` disagrees with the release the
 * proxy answers with (an SSH cut after the switch, a hand edit), the running container of that
 * release is the active one: the view is corrected and the repair returned, for the caller to
 * write back and report before anything is planned. No answer from the proxy (maintenance page,
 * proxy down) leaves the view as it is.
 */
export function reconcile(
  view: VmView,
  live: { release?: string },
  now: string,
): { view: VmView; repair?: { active: ActiveState; why: string } } {
  const serving = live.release
    ? view.containers.find((c) => c.running && c.release === live.release)
    : undefined;
  if (!serving) return { view };
  const a = view.active;
  if (a && a.colour === serving.colour && a.release === serving.release) return { view };
  const active: ActiveState = {
    colour: serving.colour,
    release: serving.release,
    image: serving.image,
    since: now,
  };
  const said = a ? `${a.release} on ${a.colour}` : 'nothing';
  return {
    view: { ...view, active },
    repair: {
      active,
      why: `state.json says ${said}, but the proxy serves ${serving.release} from ${serving.name}`,
    },
  };
}
