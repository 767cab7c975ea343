import type { EntityManager } from '@mikro-orm/mysql';
import { Note } from './modules/notes/note.entity.ts';

// Sample data for local development (`npm run seed`). Idempotent: a sample is recognised by its
// title, so a second run adds nothing and never touches notes a developer wrote or edited.
export const SAMPLE_NOTES: ReadonlyArray<{ title: string; body: string }> = [
  { title: 'Welcome to the notes API', body: 'Sample note from `npm run seed`. Edit or delete it freely.' },
  { title: 'Hot reload', body: 'Edit backend/src while `npm run dev` runs: bun --watch restarts in place.' },
  { title: 'Cache', body: 'GET /notes/:id twice: the second answer says X-Cache: hit (Redis).' },
  {
    title: 'Kill switch',
    body: 'bun src/server.ts kill-switch on --reason test, then every route answers 503.',
  },
];

export type SeedResult = { created: number; existing: number };

export async function seedSampleNotes(em: EntityManager): Promise<SeedResult> {
  const titles = SAMPLE_NOTES.map((n) => n.title);
  const present = new Set((await em.find(Note, { title: { $in: titles } })).map((n) => n.title));
  const missing = SAMPLE_NOTES.filter((n) => !present.has(n.title));
  for (const n of missing) em.create(Note, { ...n });
  await em.flush();
  return { created: missing.length, existing: present.size };
}
