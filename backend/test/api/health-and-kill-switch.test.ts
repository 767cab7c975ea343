import { writeFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { KILL_SWITCH_KEY, setKillSwitch } from '../../src/kill-switch.ts';
import { appFixture, waitUntil } from '../support/harness.ts';
import { freePort } from '../support/services.ts';

const { ctx, app } = appFixture();
afterAll(() => ctx.redis.del(KILL_SWITCH_KEY));

describe('health endpoints', () => {
  it('/readyz checks the database and Redis; /healthz depends on nothing', async () => {
    const a = await app();
    const ready = await fetch(`${a.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok', checks: { database: 'ok', redis: 'ok' } });
  });

  it('/readyz answers 503 naming Redis when Redis is unreachable, /healthz stays 200', async () => {
    const dead = await freePort();
    const a = await app({ REDIS_URL: `redis://127.0.0.1:${dead}`, DEPENDENCY_TIMEOUT_MS: '300' }, false);
    const res = await fetch(`${a.url}/readyz`);
    expect(res.status).toBe(503);
    const text = await res.text();
    const body = JSON.parse(text);
    expect(body.failed).toEqual(['redis']);
    expect(body.checks.database).toBe('ok');
    // A short code, not the error's text: nothing of the address reaches a client; the log has it.
    expect(body.checks.redis).toMatch(/^(timeout|error|E[A-Z0-9_]+)$/);
    expect(text).not.toContain(String(dead));
    expect(a.logs).toContainEqual(
      expect.objectContaining({ msg: 'readyz: dependency failed', dependency: 'redis' }),
    );
    expect((await fetch(`${a.url}/healthz`)).status).toBe(200);
    // the API itself degrades: no cache, no limiter, but notes still work
    expect((await fetch(`${a.url}/notes`)).status).toBe(200);
  });

  it('/readyz answers 503 naming the database when it is unreachable', async () => {
    const dead = await freePort();
    const a = await app({
      DATABASE_URL: `mysql://test:test@127.0.0.1:${dead}/nothing`,
      DEPENDENCY_TIMEOUT_MS: '300',
    });
    const res = await fetch(`${a.url}/readyz`);
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ failed: ['database'], checks: { redis: 'ok' } });
    expect(JSON.parse(text).checks.database).toMatch(/^(timeout|error|E[A-Z0-9_]+)$/);
    expect(text).not.toContain(String(dead));
    expect(text).not.toContain('test@');
  });

  it('/readyz answers 503 while draining', async () => {
    const a = await app();
    a.services.lifecycle.draining = true;
    const res = await fetch(`${a.url}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'draining' });
  });
});

describe('global kill switch', () => {
  it('turns every route but health to 503 with Retry-After within 1 s, and back', async () => {
    const a = await app();
    expect((await fetch(`${a.url}/notes`)).status).toBe(200);
    await setKillSwitch(ctx.redis, a.services.config.KILL_SWITCH_FILE, true, 'drill');
    const tookOn = await waitUntil(async () => (await fetch(`${a.url}/notes`)).status === 503, 1_000);
    expect(tookOn).toBeLessThan(1_000);
    const blocked = await fetch(`${a.url}/notes`);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await blocked.json()).toMatchObject({ error: 'kill_switch', message: 'drill' });
    expect((await fetch(`${a.url}/notes/1`, { method: 'DELETE' })).status).toBe(503);
    expect((await fetch(`${a.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${a.url}/readyz`)).status).toBe(200);

    await setKillSwitch(ctx.redis, a.services.config.KILL_SWITCH_FILE, false);
    const tookOff = await waitUntil(async () => (await fetch(`${a.url}/notes`)).status === 200, 1_000);
    expect(tookOff).toBeLessThan(1_000);
  });

  it('falls back to the file when Redis is down', async () => {
    const dead = await freePort();
    const file = `/tmp/e2m-test-ks-file-${dead}`;
    const a = await app({ REDIS_URL: `redis://127.0.0.1:${dead}`, KILL_SWITCH_FILE: file }, false);
    expect((await fetch(`${a.url}/notes`)).status).toBe(200);
    await writeFile(file, JSON.stringify({ reason: 'redis is down', since: new Date().toISOString() }));
    await waitUntil(async () => (await fetch(`${a.url}/notes`)).status === 503, 1_000);
    expect((await (await fetch(`${a.url}/notes`)).json()).message).toBe('redis is down');
  });
});
