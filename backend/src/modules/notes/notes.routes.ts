import Router from '@koa/router';
import type { EntityManager } from '@mikro-orm/mysql';
import { createNoteSchema, idSchema, listQuerySchema, parse, updateNoteSchema } from './note.schema.ts';
import type { NotesService } from './notes.service.ts';

type State = { em: EntityManager; body?: unknown };

export function notesRouter(notes: NotesService): Router<State> {
  const router = new Router<State>({ prefix: '/notes' });
  const id = (raw: string) => parse(idSchema, raw, 'id');

  router.get('/', async (ctx) => {
    const q = parse(listQuerySchema, ctx.query, 'query');
    ctx.body = await notes.list(ctx.state.em, q.limit, q.cursor);
  });
  router.post('/', async (ctx) => {
    const note = await notes.create(ctx.state.em, parse(createNoteSchema, ctx.state.body));
    ctx.status = 201;
    ctx.set('Location', `/notes/${note.id}`);
    ctx.body = note;
  });
  router.get('/:id', async (ctx) => {
    const { note, cache } = await notes.get(ctx.state.em, id(ctx.params.id));
    ctx.set('X-Cache', cache);
    ctx.body = note;
  });
  router.patch('/:id', async (ctx) => {
    ctx.body = await notes.update(ctx.state.em, id(ctx.params.id), parse(updateNoteSchema, ctx.state.body));
  });
  router.delete('/:id', async (ctx) => {
    await notes.remove(ctx.state.em, id(ctx.params.id));
    ctx.status = 204;
  });
  return router;
}
