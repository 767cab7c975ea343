import type { EntityManager } from '@mikro-orm/mysql';
import type { Redis } from 'ioredis';
import { NotFoundError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import { Note } from './note.entity.ts';
import { decodeCursor, encodeCursor } from './note.schema.ts';

export type NoteDto = { id: number; title: string; body: string; createdAt: string; updatedAt: string };

const toDto = (n: Note): NoteDto => ({
  id: Number(n.id),
  title: n.title,
  body: n.body,
  createdAt: n.createdAt.toISOString(),
  updatedAt: n.updatedAt.toISOString(),
});

const cacheKey = (id: number) => `app:note:${id}`;

/**
 * Notes with a read-through Redis cache on single reads. Writes go to the database first, then
 * drop the cached copy, so a reader never sees an older note than the last acknowledged write
 * for longer than one in-flight read. Cache failures degrade to the database, never to errors.
 */
export class NotesService {
  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
    private readonly log: Logger,
  ) {}

  async get(em: EntityManager, id: number): Promise<{ note: NoteDto; cache: 'hit' | 'miss' }> {
    const cached = await this.redis.get(cacheKey(id)).catch(this.cacheDown);
    if (cached) return { note: JSON.parse(cached), cache: 'hit' };
    const found = await em.findOne(Note, { id });
    if (!found) throw new NotFoundError(`note ${id}`);
    const note = toDto(found);
    await this.redis.set(cacheKey(id), JSON.stringify(note), 'EX', this.ttlSeconds).catch(this.cacheDown);
    return { note, cache: 'miss' };
  }

  async list(
    em: EntityManager,
    limit: number,
    cursor?: string,
  ): Promise<{ items: NoteDto[]; nextCursor: string | null }> {
    const where = cursor ? { id: { $lt: decodeCursor(cursor) } } : {};
    const rows = await em.find(Note, where, { orderBy: { id: 'desc' }, limit: limit + 1 });
    const items = rows.slice(0, limit).map(toDto);
    const nextCursor = rows.length > limit ? encodeCursor(items[items.length - 1].id) : null;
    return { items, nextCursor };
  }

  async create(em: EntityManager, input: { title: string; body: string }): Promise<NoteDto> {
    const note = em.create(Note, input);
    await em.flush();
    return toDto(note);
  }

  async update(em: EntityManager, id: number, input: { title?: string; body?: string }): Promise<NoteDto> {
    const note = await em.findOne(Note, { id });
    if (!note) throw new NotFoundError(`note ${id}`);
    em.assign(note, input);
    await em.flush();
    await this.invalidate(id);
    return toDto(note);
  }

  async remove(em: EntityManager, id: number): Promise<void> {
    const deleted = await em.nativeDelete(Note, { id });
    if (deleted === 0) throw new NotFoundError(`note ${id}`);
    await this.invalidate(id);
  }

  private async invalidate(id: number) {
    await this.redis.del(cacheKey(id)).catch(this.cacheDown);
  }

  private cacheDown = (e: unknown) => {
    this.log.warn('cache unavailable', { error: String(e) });
    return null;
  };
}
