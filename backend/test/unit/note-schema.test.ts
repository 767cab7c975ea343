import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.ts';
import {
  createNoteSchema,
  decodeCursor,
  encodeCursor,
  parse,
  updateNoteSchema,
} from '../../src/modules/notes/note.schema.ts';

const fieldsOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as ValidationError).fields;
  }
  throw new Error('expected a ValidationError');
};

describe('note input', () => {
  it('trims the title, defaults the body on create, keeps absent fields absent on update', () => {
    expect(parse(createNoteSchema, { title: '  Hi  ' })).toEqual({ title: 'Hi', body: '' });
    expect(parse(updateNoteSchema, { title: 'x' })).toEqual({ title: 'x' });
  });

  it('names each bad field, unknown ones included', () => {
    expect(
      fieldsOf(() => parse(createNoteSchema, { title: 'x'.repeat(201), body: 1, extra: true, more: 2 })),
    ).toEqual([
      { field: 'title', message: 'at most 200 characters' },
      { field: 'body', message: expect.any(String) },
      { field: 'extra', message: 'is not a known field' },
      { field: 'more', message: 'is not a known field' },
    ]);
    expect(fieldsOf(() => parse(createNoteSchema, null))).toEqual([
      { field: 'body', message: expect.any(String) },
    ]);
    expect(fieldsOf(() => parse(updateNoteSchema, {}))).toEqual([
      { field: 'body', message: 'give at least one of title, body' },
    ]);
  });

  it('round-trips cursors and refuses forged ones', () => {
    expect(decodeCursor(encodeCursor(12345))).toBe(12345);
    expect(() => decodeCursor(Buffer.from('-4').toString('base64url'))).toThrow(ValidationError);
    expect(() => decodeCursor('bm9wZQ')).toThrow(ValidationError);
  });
});
