// Structured JSON logs, one object per line on stdout (journald and `docker logs` keep them).
export type Logger = {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
};

export function createLogger(
  base: Record<string, unknown>,
  write: (line: string) => unknown = (line) => process.stdout.write(line),
): Logger {
  const log =
    (level: string) =>
    (msg: string, fields: Record<string, unknown> = {}) =>
      write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...base, ...fields })}\n`);
  return { info: log('info'), warn: log('warn'), error: log('error') };
}
