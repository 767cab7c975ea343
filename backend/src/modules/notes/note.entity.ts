import { defineEntity, type InferEntity, p } from '@mikro-orm/core';

export const Note = defineEntity({
  name: 'Note',
  tableName: 'notes',
  properties: {
    id: p.bigint('number').primary().autoincrement(),
    title: p.string().length(200),
    body: p.text(),
    createdAt: p.datetime(3).onCreate(() => new Date()),
    updatedAt: p
      .datetime(3)
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  },
});

export type Note = InferEntity<typeof Note>;
