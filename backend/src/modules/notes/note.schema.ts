import { z } from 'zod';
import { type FieldProblem, ValidationError } from '../../errors.ts';

export const TITLE_MAX = 200;
export const BODY_MAX = 10_000;

const title = z.string().trim().min(1, 'must not be empty').max(TITLE_MAX, `at most ${TITLE_MAX} characters`);
const body = z.string().max(BODY_MAX, `at most ${BODY_MAX} characters`);

export const createNoteSchema = z.strictObject({ title, body: body.default('') });

// No defaults here: a field left out of a PATCH keeps its stored value.
export const updateNoteSchema = z
  .strictObject({ title: title.optional(), body: body.optional() })
  .refine((v) => v.title !== undefined || v.body !== undefined, {
    message: 'give at least one of title, body',
  });

export const listQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,24}$/, 'is not a cursor from a previous page')
    .optional(),
});

export const idSchema = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** Validates input against a schema; a failure becomes a 400 naming each bad field. */
export function parse<T extends z.ZodType>(schema: T, input: unknown, where = 'body'): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const fields: FieldProblem[] = result.error.issues.flatMap((i) => {
    const at = i.path.length ? `${i.path.join('.')}.` : '';
    if (i.code === 'unrecognized_keys')
      return i.keys.map((k) => ({ field: `${at}${k}`, message: 'is not a known field' }));
    return [{ field: i.path.length ? i.path.join('.') : where, message: i.message }];
  });
  throw new ValidationError(fields);
}

// Cursors are opaque to clients: the last id of the page, base64url-encoded.
export const encodeCursor = (id: number) => Buffer.from(String(id)).toString('base64url');

export function decodeCursor(cursor: string): number {
  const id = Number(Buffer.from(cursor, 'base64url').toString());
  if (!Number.isSafeInteger(id) || id <= 0)
    throw new ValidationError([{ field: 'cursor', message: 'is not a cursor from a previous page' }]);
  return id;
}
