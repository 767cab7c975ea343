// `npm run dev -- --help`, written from its table: the very text the entry printed before its
// command line became a table, line for line.
import { describe, expect, it } from 'vitest';
import { decide, mainHelp } from '../cli/args.ts';
import { devSpec } from './spec.ts';

describe('dev --help', () => {
  it('is the help the entry has always printed', () => {
    expect(mainHelp(devSpec).split('\n')).toEqual([
      'Usage: npm run dev [-- options]',
      '',
      'Starts MariaDB and Redis on loopback (data in .dev/), runs migrations, seeds sample data and runs',
      'the backend with hot reload (bun --watch). Ctrl-C stops everything it started.',
      'Ports and credentials: DATABASE_URL, REDIS_URL and PORT in .env (made from .env.example if missing).',
      '',
      'Options (--dotenv, not --env-file: Node 22 takes --env-file for itself, wherever it stands):',
      '  --dotenv FILE     the .env to read (default .env at the repository root)',
      '  --data-dir DIR    where data, logs and the lock live (default .dev/)',
      '  --backend DIR     the backend source to run (default backend/)',
      '  --dry-run         print the plan, start nothing',
      '  -h, --help        this help',
    ]);
  });

  it('no command starts the stack; a misspelt option is a usage error, not a start', () => {
    expect(decide(devSpec, ['--dry-run', '--data-dir', '/x'])).toMatchObject({
      kind: 'run',
      invocation: { command: 'start', values: { 'dry-run': true, 'data-dir': '/x' } },
    });
    expect(decide(devSpec, ['--dryrun'])).toMatchObject({
      kind: 'usage',
      message: 'unknown option --dryrun (see --help)',
    });
  });
});
