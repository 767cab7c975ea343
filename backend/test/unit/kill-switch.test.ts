import { describe, expect, it } from 'vitest';
import { resolveKillSwitch } from '../../src/kill-switch.ts';

const on = JSON.stringify({ reason: 'incident 42', since: '2026-11-23T03:00:00.000Z' });

describe('resolveKillSwitch', () => {
  it('takes Redis as the truth whenever Redis answers, even against the file', () => {
    expect(resolveKillSwitch({ ok: true, value: on }, null)).toEqual({
      on: true,
      source: 'redis',
      reason: 'incident 42',
      since: '2026-11-23T03:00:00.000Z',
    });
    expect(resolveKillSwitch({ ok: true, value: null }, on)).toEqual({ on: false, source: 'none' });
  });

  it('falls back to the file only when Redis cannot answer', () => {
    expect(resolveKillSwitch({ ok: false }, on)).toMatchObject({
      on: true,
      source: 'file',
      reason: 'incident 42',
    });
    expect(resolveKillSwitch({ ok: false }, null)).toEqual({ on: false, source: 'none' });
  });

  it('accepts a plain-text flag written by hand', () => {
    expect(resolveKillSwitch({ ok: false }, 'maintenance\n')).toEqual({
      on: true,
      source: 'file',
      reason: 'maintenance',
      since: undefined,
    });
  });
});
