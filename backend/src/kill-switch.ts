import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Redis } from 'ioredis';
import type { Logger } from './logger.ts';

// The global kill switch: while on, every route except health answers 503. Redis holds the
// flag so all colours see it at once; a file on the volume both colours share holds it too.
// Redis keeps nothing on disk, so after a restart, an OOM kill or an eviction it answers without
// the flag: its silence does not mean off while the file still says on.
export const KILL_SWITCH_KEY = 'app:kill-switch';

export type KillSwitchState = {
  on: boolean;
  reason?: string;
  since?: string;
  source: 'redis' | 'file' | 'none';
};

const OFF: KillSwitchState = { on: false, source: 'none' };

type RedisRead = { ok: true; value: string | null } | { ok: false };

/** Pure: on if either source says so; Redis's reason wins when both do. */
export function resolveKillSwitch(redis: RedisRead, file: string | null): KillSwitchState {
  if (redis.ok && redis.value) return { ...parse(redis.value), on: true, source: 'redis' };
  return file ? { ...parse(file), on: true, source: 'file' } : OFF;
}

/** Pure: what to write back into Redis when it answered without the flag the file still holds. */
export function reseedValue(redis: RedisRead, file: string | null): string | undefined {
  return redis.ok && !redis.value && file ? file : undefined;
}

function parse(raw: string): { reason?: string; since?: string } {
  try {
    const v = JSON.parse(raw);
    return {
      reason: typeof v.reason === 'string' ? v.reason : undefined,
      since: typeof v.since === 'string' ? v.since : undefined,
    };
  } catch {
    return { reason: raw.trim() || undefined };
  }
}

async function readFileOrNull(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

async function readRedis(redis: Redis, timeoutMs: number): Promise<RedisRead> {
  if (redis.status !== 'ready') return { ok: false };
  try {
    const value = await withTimeout(redis.get(KILL_SWITCH_KEY), timeoutMs);
    return { ok: true, value };
  } catch {
    return { ok: false };
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Redis first, then the file: `off` removes the file before the key, so a reader that finds the
 * key gone and the file still there is looking at a Redis that lost it, not at an `off`.
 */
async function readBoth(redis: Redis, file: string, timeoutMs: number) {
  const fromRedis = await readRedis(redis, timeoutMs);
  return { fromRedis, fromFile: await readFileOrNull(file) };
}

/** Reads the switch; writes nothing (`kill-switch status` and incident status use it). */
export async function readKillSwitch(redis: Redis, file: string, timeoutMs = 500): Promise<KillSwitchState> {
  const { fromRedis, fromFile } = await readBoth(redis, file, timeoutMs);
  return resolveKillSwitch(fromRedis, fromFile);
}

/**
 * Reads the switch and, when Redis answered without the flag the file holds (it restarted),
 * writes the flag back so every colour sees it in Redis again. An `off` may land between the
 * read and the write: the file is read again after the write, and if it is gone the key is
 * removed, so the re-seed never leaves the switch stuck on.
 */
export async function syncKillSwitch(
  redis: Redis,
  file: string,
  timeoutMs = 500,
): Promise<{ state: KillSwitchState; reseeded: boolean }> {
  const { fromRedis, fromFile } = await readBoth(redis, file, timeoutMs);
  const state = resolveKillSwitch(fromRedis, fromFile);
  const value = reseedValue(fromRedis, fromFile);
  if (value === undefined) return { state, reseeded: false };
  try {
    await withTimeout<unknown>(redis.set(KILL_SWITCH_KEY, value), timeoutMs);
  } catch {
    return { state, reseeded: false }; // Redis went away again: the next read tries again
  }
  if ((await readFileOrNull(file)) === null) {
    await withTimeout<unknown>(redis.del(KILL_SWITCH_KEY), timeoutMs).catch(() => {});
    return { state: OFF, reseeded: false };
  }
  return { state, reseeded: true };
}

/**
 * Sets or clears the switch in both places. On succeeds if at least one place took it (either
 * one keeps the site off). Off must clear both, or the one left keeps the switch on: the file
 * goes first (see readBoth), and a failure in either place is an error naming it.
 */
export async function setKillSwitch(
  redis: Redis,
  file: string,
  on: boolean,
  reason = 'kill switch',
  now = new Date(),
): Promise<{ redis: string; file: string }> {
  const value = JSON.stringify({ reason, since: now.toISOString() });
  const outcome = { redis: 'ok', file: 'ok' };
  const inRedis = async () => {
    try {
      await withTimeout<unknown>(on ? redis.set(KILL_SWITCH_KEY, value) : redis.del(KILL_SWITCH_KEY), 1_000);
    } catch (e) {
      outcome.redis = `failed: ${(e as Error).message}`;
    }
  };
  const inFile = async () => {
    try {
      if (on) {
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, value);
      } else {
        await rm(file, { force: true });
      }
    } catch (e) {
      outcome.file = `failed (${file}): ${(e as Error).message}`;
    }
  };
  if (on) {
    await inRedis();
    await inFile();
    if (outcome.redis !== 'ok' && outcome.file !== 'ok') {
      throw new Error(`kill switch not turned on: redis ${outcome.redis}; file ${outcome.file}`);
    }
  } else {
    await inFile();
    await inRedis();
    if (outcome.redis !== 'ok' || outcome.file !== 'ok') {
      throw new Error(
        `kill switch may still be on (either place keeps it on): redis ${outcome.redis}; file ${outcome.file}; run off again once both answer`,
      );
    }
  }
  return outcome;
}

/** Keeps the state in memory, refreshed on a short timer, so requests never wait on Redis for it. */
export class KillSwitchWatcher {
  state: KillSwitchState = OFF;
  #timer?: ReturnType<typeof setInterval>;

  constructor(
    private readonly redis: Redis,
    private readonly file: string,
    private readonly pollMs: number,
    private readonly log: Logger,
  ) {}

  async refresh(): Promise<KillSwitchState> {
    const next = await syncKillSwitch(this.redis, this.file, this.pollMs).then(
      ({ state, reseeded }) => {
        if (reseeded) this.log.warn('kill switch re-seeded into Redis from the file', { ...state });
        return state;
      },
      (e) => {
        this.log.warn('kill switch unreadable, keeping last state', { error: String(e) });
        return this.state;
      },
    );
    if (next.on !== this.state.on) this.log.warn(`kill switch ${next.on ? 'ON' : 'off'}`, { ...next });
    this.state = next;
    return next;
  }

  async start(): Promise<void> {
    await this.refresh();
    this.#timer = setInterval(() => void this.refresh(), this.pollMs);
    this.#timer.unref?.();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
