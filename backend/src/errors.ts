// Domain errors carry their HTTP meaning; the error middleware maps them, everything else is a 500.
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export class NotFoundError extends HttpError {
  constructor(what: string) {
    super(404, 'not_found', `${what} not found`);
  }
}

export type FieldProblem = { field: string; message: string };

export class ValidationError extends HttpError {
  constructor(readonly fields: FieldProblem[]) {
    super(400, 'validation_failed', `invalid ${fields.map((f) => f.field).join(', ')}`, { fields });
  }
}

export class ServiceUnavailableError extends HttpError {
  constructor(code: string, message: string, retryAfterSeconds: number) {
    super(503, code, message, undefined, { 'Retry-After': String(retryAfterSeconds) });
  }
}
