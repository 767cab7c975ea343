import { parseArgs } from 'node:util';

// The one binary's commands. Pure: argv in, a command description out (tested without I/O).
export const USAGE = `Usage: server [command] [options]

Commands:
  serve                     run the HTTP server (default)
  migrate [--dry-run]       apply pending database migrations (--dry-run lists them)
  seed                      add the sample notes for local development (idempotent)
  kill-switch on [--reason TEXT] | off | status
                            the global kill switch: while on, every route but /healthz and
                            /readyz answers 503 with Retry-After
  healthcheck [--ready]     exit 0 if this container's /healthz (or /readyz) answers 200
                            (HEALTHCHECK uses it; the deploy waits on --ready)

Configuration comes from the environment; see .env.example.`;

export type Command =
  | { name: 'serve' }
  | { name: 'migrate'; dryRun: boolean }
  | { name: 'seed' }
  | { name: 'kill-switch'; action: 'on' | 'off' | 'status'; reason?: string }
  | { name: 'healthcheck'; ready: boolean }
  | { name: 'help' };

export class UsageError extends Error {}

export function parseCommand(argv: string[]): Command {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      'dry-run': { type: 'boolean' },
      ready: { type: 'boolean' },
      reason: { type: 'string' },
    },
  });
  if (values.help) return { name: 'help' };
  const [name = 'serve', ...rest] = positionals;
  switch (name) {
    case 'serve':
    case 'seed':
    case 'healthcheck':
      if (rest.length) throw new UsageError(`${name} takes no arguments, got: ${rest.join(' ')}`);
      return name === 'healthcheck' ? { name, ready: values.ready ?? false } : { name };
    case 'migrate':
      return { name, dryRun: values['dry-run'] ?? false };
    case 'kill-switch': {
      const action = rest[0];
      if (action !== 'on' && action !== 'off' && action !== 'status') {
        throw new UsageError(`kill-switch needs one of on, off, status; got: ${action ?? 'nothing'}`);
      }
      return { name, action, reason: values.reason };
    }
    case 'help':
      return { name: 'help' };
    default:
      throw new UsageError(`unknown command: ${name}`);
  }
}
