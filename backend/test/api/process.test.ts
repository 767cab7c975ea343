import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabase, waitUntil } from '../support/harness.ts';
import { runServerCommand, type ServerProcess, spawnServer } from '../support/process.ts';
import { freePort } from '../support/services.ts';

let db: Awaited<ReturnType<typeof createDatabase>>;
const running: ServerProcess[] = [];

beforeAll(async () => {
  db = await createDatabase();
});
afterAll(async () => {
  for (const p of running) p.child.kill('SIGKILL');
  await db?.drop();
});

async function serve(env: Record<string, string>) {
  const port = await freePort();
  const p = spawnServer([], {
    DATABASE_URL: db.url,
    REDIS_URL: inject('redisUrl'),
    PORT: String(port),
    HOST: '127.0.0.1',
    KILL_SWITCH_FILE: `/tmp/e2m-proc-ks-${port}`,
    RELEASE: 'proc-test',
    ...env,
  });
  running.push(p);
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(async () => (await fetch(`${url}/healthz`).catch(() => null))?.ok === true, 20_000, 100);
  return { ...p, url, port };
}

/** A POST whose body arrives slowly: a request that is really in flight for `ms`. */
function slowPost(port: number, ms: number): Promise<{ status: number; body: string }> {
  const payload = JSON.stringify({ title: 'slow', body: 'x'.repeat(200) });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/notes',
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        let body = '';
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    const half = Math.floor(payload.length / 2);
    req.write(payload.slice(0, half));
    setTimeout(() => req.end(payload.slice(half)), ms);
  });
}

describe('the server process', () => {
  it('on SIGTERM turns /readyz to 503 at once, finishes the request in flight, then exits 0', async () => {
    const s = await serve({ DRAIN_TIMEOUT_MS: '8000' });
    const inFlight = slowPost(s.port, 1_500);
    await new Promise((r) => setTimeout(r, 300));
    const t0 = performance.now();
    s.child.kill('SIGTERM');
    await waitUntil(async () => (await fetch(`${s.url}/readyz`)).status === 503, 1_000);
    expect(await (await fetch(`${s.url}/readyz`)).json()).toEqual({ status: 'draining' });
    const done = await inFlight;
    expect(done.status).toBe(201);
    expect(JSON.parse(done.body).title).toBe('slow');
    expect(await s.exited).toBe(0);
    expect(performance.now() - t0).toBeLessThan(8_000);
    expect(s.output()).toContain('"msg":"shutdown: done"');
    expect(s.output()).toContain('"drained":true');
  });

  it('gives up on a request that outlives the drain time, and still exits 0', async () => {
    const s = await serve({ DRAIN_TIMEOUT_MS: '300' });
    const stuck = slowPost(s.port, 5_000).catch((e) => e);
    await new Promise((r) => setTimeout(r, 200));
    const t0 = performance.now();
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    expect(performance.now() - t0).toBeLessThan(3_000);
    expect(s.output()).toContain('"drained":false');
    expect(await stuck).toBeInstanceOf(Error);
  });

  it('refuses to start with a missing or malformed key, naming it', async () => {
    const missing = await runServerCommand([], { REDIS_URL: inject('redisUrl') });
    expect(missing.code).toBe(1);
    expect(missing.output).toMatch(/DATABASE_URL: is required/);
    const bad = await runServerCommand([], {
      DATABASE_URL: db.url,
      REDIS_URL: inject('redisUrl'),
      PORT: 'eighty',
    });
    expect(bad.code).toBe(1);
    expect(bad.output).toMatch(/PORT:/);
    expect(bad.output).not.toMatch(/DATABASE_URL/);
  });

  it('sets, shows and clears the kill switch from the CLI; a running server obeys within 1 s', async () => {
    const s = await serve({});
    const env = {
      DATABASE_URL: db.url,
      REDIS_URL: inject('redisUrl'),
      KILL_SWITCH_FILE: `/tmp/e2m-proc-ks-${s.port}`,
    };
    const on = await runServerCommand(['kill-switch', 'on', '--reason', 'cli drill'], env);
    expect(on.code).toBe(0);
    const t0 = performance.now();
    await waitUntil(async () => (await fetch(`${s.url}/notes`)).status === 503, 1_000);
    expect(performance.now() - t0).toBeLessThan(1_000);
    const status = await runServerCommand(['kill-switch', 'status'], env);
    expect(JSON.parse(status.output.trim().split('\n').pop() ?? '{}')).toMatchObject({
      on: true,
      reason: 'cli drill',
      source: 'redis',
    });
    expect((await runServerCommand(['kill-switch', 'off'], env)).code).toBe(0);
    await waitUntil(async () => (await fetch(`${s.url}/notes`)).status === 200, 1_000);
    const usage = await runServerCommand(['kill-switch', 'maybe'], env);
    expect(usage.code).toBe(2);
    expect(usage.output).toContain('kill-switch needs one of on, off, status');
  });

  it('reports an unhandled error to Sentry (a local endpoint receives the envelope) with release and environment', async () => {
    const envelopes: string[] = [];
    const sink = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        envelopes.push((req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString());
        res.writeHead(200).end('{}');
      });
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    const sinkPort = (sink.address() as AddressInfo).port;
    try {
      const empty = await createDatabase(false); // no tables: GET /notes fails inside the ORM
      const s = await serve({
        DATABASE_URL: empty.url,
        SENTRY_DSN: `http://publickey@127.0.0.1:${sinkPort}/1`,
        APP_ENV: 'staging',
      });
      const res = await fetch(`${s.url}/notes`);
      expect(res.status).toBe(500);
      await waitUntil(() => envelopes.some((e) => e.includes('"exception"')), 10_000, 100);
      const event = envelopes.find((e) => e.includes('"exception"')) ?? '';
      expect(event).toContain('"release":"proc-test"');
      expect(event).toContain('"environment":"staging"');
      expect(event).toMatch(/notes.*doesn't exist|ER_NO_SUCH_TABLE/);
      s.child.kill('SIGTERM');
      await s.exited;
      await empty.drop();
    } finally {
      sink.close();
    }
  });
});
