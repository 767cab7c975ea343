import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initOrm } from '../../src/db.ts';
import { Note } from '../../src/modules/notes/note.entity.ts';
import { SAMPLE_NOTES } from '../../src/seed.ts';
import { createDatabase } from '../support/harness.ts';
import { runServerCommand } from '../support/process.ts';

// `server seed` as `npm run seed` runs it: a real process against a real, migrated database.
let db: Awaited<ReturnType<typeof createDatabase>>;
beforeAll(async () => {
  db = await createDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const seed = async () => {
  const { code, output } = await runServerCommand(['seed'], {
    DATABASE_URL: db.url,
    REDIS_URL: 'redis://127.0.0.1:1',
  });
  expect(code, output).toBe(0);
  return JSON.parse(output.trim().split('\n').pop() ?? '{}');
};

const titles = async () => {
  const orm = await initOrm({ DATABASE_URL: db.url, DATABASE_POOL_MAX: 1, DEPENDENCY_TIMEOUT_MS: 2_000 });
  try {
    return (await orm.em.fork().find(Note, {}, { orderBy: { id: 'asc' } })).map((n) => n.title);
  } finally {
    await orm.close(true);
  }
};

describe('seed', () => {
  it('adds the sample notes once; a second run adds nothing', async () => {
    expect(await seed()).toEqual({ created: SAMPLE_NOTES.length, existing: 0 });
    expect(await seed()).toEqual({ created: 0, existing: SAMPLE_NOTES.length });
    expect(await titles()).toEqual(SAMPLE_NOTES.map((n) => n.title));
  });

  it('restores only a deleted sample and leaves the developer’s own notes alone', async () => {
    const orm = await initOrm({ DATABASE_URL: db.url, DATABASE_POOL_MAX: 1, DEPENDENCY_TIMEOUT_MS: 2_000 });
    try {
      const em = orm.em.fork();
      await em.nativeDelete(Note, { title: SAMPLE_NOTES[1].title });
      em.create(Note, { title: 'mine', body: 'not a sample' });
      await em.flush();
    } finally {
      await orm.close(true);
    }
    expect(await seed()).toEqual({ created: 1, existing: SAMPLE_NOTES.length - 1 });
    const after = await titles();
    expect(after).toHaveLength(SAMPLE_NOTES.length + 1);
    expect(after).toContain('mine');
    expect(new Set(after)).toEqual(new Set([...SAMPLE_NOTES.map((n) => n.title), 'mine']));
  });

  it('says which key is wrong when the database is not configured', async () => {
    const { code, output } = await runServerCommand(['seed'], { REDIS_URL: 'redis://127.0.0.1:1' });
    expect(code).toBe(1);
    expect(output).toMatch(/DATABASE_URL/);
  });
});
