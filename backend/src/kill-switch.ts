import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Redis } from 'ioredis';
import type { Logger } from './logger.ts';

// The global kill switch: while on, every route except health answers 503. Redis holds the
// flag so all colours see it at once; a file is the fallback for when Redis itself is down.
export const KILL_SWITCH_KEY = 'app:kill-switch';

export type KillSwitchState = {
  on: boolean;
  reason?: string;
  since?: string;
  source: 'redis' | 'file' | 'none';
};

const OFF: KillSwitchState = { on: false, source: 'none' };

/** Pure: Redis is authoritative when it answers; the file only speaks when Redis cannot. */
export function resolveKillSwitch(
  redis: { ok: true; value: string | null } | { ok: false },
  file: string | null,
): KillSwitchState {
  if (redis.ok) return redis.value ? { ...parse(redis.value), on: true, source: 'redis' } : OFF;
  return file ? { ...parse(file), on: true, source: 'file' } : OFF;
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

async function readRedis(
  redis: Redis,
  timeoutMs: number,
): Promise<{ ok: true; value: string | null } | { ok: false }> {
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

export async function readKillSwitch(redis: Redis, file: string, timeoutMs = 500): Promise<KillSwitchState> {
  return resolveKillSwitch(await readRedis(redis, timeoutMs), await readFileOrNull(file));
}

/** Sets or clears the switch in both places; succeeds if at least one place took the change. */
export async function setKillSwitch(
  redis: Redis,
  file: string,
  on: boolean,
  reason = 'kill switch',
  now = new Date(),
): Promise<{ redis: string; file: string }> {
  const value = JSON.stringify({ reason, since: now.toISOString() });
  const outcome = { redis: 'ok', file: 'ok' };
  try {
    await withTimeout<unknown>(on ? redis.set(KILL_SWITCH_KEY, value) : redis.del(KILL_SWITCH_KEY), 1_000);
  } catch (e) {
    outcome.redis = `failed: ${(e as Error).message}`;
  }
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
  if (outcome.redis !== 'ok' && outcome.file !== 'ok') {
    throw new Error(`kill switch not changed: redis ${outcome.redis}; file ${outcome.file}`);
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
    const next = await readKillSwitch(this.redis, this.file, this.pollMs).catch((e) => {
      this.log.warn('kill switch unreadable, keeping last state', { error: String(e) });
      return this.state;
    });
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
