import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, json, type RunningApp, startApp } from '../support/harness.ts';

let app: RunningApp;
let db: Awaited<ReturnType<typeof createDatabase>>;

beforeAll(async () => {
  db = await createDatabase();
  app = await startApp({ DATABASE_URL: db.url, BODY_LIMIT_BYTES: '2048', RATE_LIMIT_MAX: '10000' });
});
afterAll(async () => {
  await app?.close();
  await db?.drop();
});

const call = (path: string, init?: RequestInit) => fetch(`${app.url}${path}`, init);

describe('notes API against MariaDB and Redis', () => {
  it('creates, reads, updates and deletes a note', async () => {
    const created = await call('/notes', json({ title: 'First', body: 'hello' }));
    expect(created.status).toBe(201);
    const note = await created.json();
    expect(note).toMatchObject({ title: 'First', body: 'hello' });
    expect(created.headers.get('location')).toBe(`/notes/${note.id}`);

    const got = await call(`/notes/${note.id}`);
    expect(got.status).toBe(200);
    expect(await got.json()).toEqual(note);

    const patched = await call(`/notes/${note.id}`, { ...json({ title: 'Renamed' }), method: 'PATCH' });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ id: note.id, title: 'Renamed', body: 'hello' });

    expect((await call(`/notes/${note.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await call(`/notes/${note.id}`)).status).toBe(404);
    expect((await call(`/notes/${note.id}`, { method: 'DELETE' })).status).toBe(404);
  });

  it('pages through the list with an opaque cursor, newest first, without gaps or repeats', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 7; i++) ids.push((await (await call('/notes', json({ title: `n${i}` }))).json()).id);
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: Response = await call(`/notes?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      const page = await res.json();
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map((n: { id: number }) => n.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(seen.slice(0, 7)).toEqual([...ids].reverse());
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('answers 400 naming every bad field', async () => {
    const res = await call('/notes', json({ title: '', body: 42, colour: 'red' }));
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error).toBe('validation_failed');
    expect(body.fields.map((f: { field: string }) => f.field).sort()).toEqual(['body', 'colour', 'title']);
  });

  it('rejects bad ids, bad cursors, bad JSON and other media types', async () => {
    expect((await call('/notes/abc')).status).toBe(400);
    expect((await call('/notes/999999999')).status).toBe(404);
    const badCursor = await call('/notes?cursor=!!!');
    expect(badCursor.status).toBe(400);
    expect((await badCursor.json()).fields[0].field).toBe('cursor');
    const badJson = await call('/notes', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"title":',
    });
    expect(badJson.status).toBe(400);
    const text = await call('/notes', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hi',
    });
    expect(text.status).toBe(415);
    const empty = await call('/notes', { ...json({}), method: 'PATCH' });
    expect(empty.status).toBe(405); // PATCH on the collection is not a route
    expect((await call('/notes/1', { ...json({}), method: 'PATCH' })).status).toBe(400);
  });

  it('answers 413 for a body over the configured limit, and nothing is stored', async () => {
    const before = (await (await call('/notes?limit=100')).json()).items.length;
    const res = await call('/notes', json({ title: 'big', body: 'x'.repeat(4096) }));
    expect(res.status).toBe(413);
    expect((await (await call('/notes?limit=100')).json()).items.length).toBe(before);
  });

  it('puts the release and a request id on every response, errors included', async () => {
    for (const res of [await call('/healthz'), await call('/notes/424242'), await call('/nope')]) {
      expect(res.headers.get('x-release')).toBe('test-release');
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
    const traced = await call('/healthz', { headers: { 'x-request-id': 'from-proxy-1' } });
    expect(traced.headers.get('x-request-id')).toBe('from-proxy-1');
  });

  it('logs one JSON line per request with method, path, status, duration and request id', async () => {
    app.logs.length = 0;
    const res = await call('/notes/31337');
    const lines = app.logs.filter((l) => l.msg === 'request');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      method: 'GET',
      path: '/notes/31337',
      status: 404,
      requestId: res.headers.get('x-request-id'),
    });
    expect(typeof lines[0].durationMs).toBe('number');
  });
});
