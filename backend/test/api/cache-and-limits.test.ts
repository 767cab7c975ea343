import { describe, expect, it } from 'vitest';
import { appFixture, json } from '../support/harness.ts';

const { ctx, app } = appFixture();

describe('read-through cache in Redis', () => {
  it('serves the second read from Redis and drops the entry on update and delete', async () => {
    const a = await app();
    const note = await (await fetch(`${a.url}/notes`, json({ title: 'cached' }))).json();
    const first = await fetch(`${a.url}/notes/${note.id}`);
    expect(first.headers.get('x-cache')).toBe('miss');
    const ttl = await ctx.redis.ttl(`app:note:${note.id}`);
    expect(ttl).toBeGreaterThan(0);
    const second = await fetch(`${a.url}/notes/${note.id}`);
    expect(second.headers.get('x-cache')).toBe('hit');
    expect(await second.json()).toEqual(await first.json());

    await fetch(`${a.url}/notes/${note.id}`, { ...json({ title: 'changed' }), method: 'PATCH' });
    expect(await ctx.redis.exists(`app:note:${note.id}`)).toBe(0);
    const third = await fetch(`${a.url}/notes/${note.id}`);
    expect(third.headers.get('x-cache')).toBe('miss');
    expect((await third.json()).title).toBe('changed');

    await fetch(`${a.url}/notes/${note.id}`, { method: 'DELETE' });
    expect(await ctx.redis.exists(`app:note:${note.id}`)).toBe(0);
    expect((await fetch(`${a.url}/notes/${note.id}`)).status).toBe(404);
  });

  it('a write through one colour is seen by the other (shared cache, no stale copy)', async () => {
    const blue = await app();
    const green = await app();
    const note = await (await fetch(`${blue.url}/notes`, json({ title: 'v1' }))).json();
    await fetch(`${green.url}/notes/${note.id}`); // warm the cache
    await fetch(`${blue.url}/notes/${note.id}`, { ...json({ title: 'v2' }), method: 'PATCH' });
    expect((await (await fetch(`${green.url}/notes/${note.id}`)).json()).title).toBe('v2');
  });
});

describe('per-client rate limit', () => {
  it('answers 429 with Retry-After past the limit, and never limits health checks', async () => {
    await ctx.redis.del('app:rl:127.0.0.1');
    const a = await app({ RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_SECONDS: '30' });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await fetch(`${a.url}/notes`)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await fetch(`${a.url}/notes`);
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(30);
    expect((await limited.json()).error).toBe('rate_limited');
    for (let i = 0; i < 5; i++) expect((await fetch(`${a.url}/healthz`)).status).toBe(200);
    await ctx.redis.del('app:rl:127.0.0.1');
  });
});
