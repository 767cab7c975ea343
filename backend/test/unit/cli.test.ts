import { describe, expect, it } from 'vitest';
import { parseCommand, UsageError } from '../../src/cli.ts';

describe('parseCommand', () => {
  it('defaults to serve and knows every command', () => {
    expect(parseCommand([])).toEqual({ name: 'serve' });
    expect(parseCommand(['migrate', '--dry-run'])).toEqual({ name: 'migrate', dryRun: true });
    expect(parseCommand(['kill-switch', 'on', '--reason', 'db failover'])).toEqual({
      name: 'kill-switch',
      action: 'on',
      reason: 'db failover',
    });
    expect(parseCommand(['healthcheck'])).toEqual({ name: 'healthcheck', ready: false });
    expect(parseCommand(['healthcheck', '--ready'])).toEqual({ name: 'healthcheck', ready: true });
    expect(parseCommand(['--help'])).toEqual({ name: 'help' });
  });

  it('rejects what it does not know, saying what was wrong', () => {
    expect(() => parseCommand(['deploy'])).toThrow(new UsageError('unknown command: deploy'));
    expect(() => parseCommand(['kill-switch'])).toThrow(/got: nothing/);
    expect(() => parseCommand(['serve', 'now'])).toThrow(/takes no arguments/);
    expect(() => parseCommand(['migrate', '--force'])).toThrow();
  });
});
