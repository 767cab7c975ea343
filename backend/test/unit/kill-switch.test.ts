import { describe, expect, it } from 'vitest';
import { reseedValue, resolveKillSwitch } from '../../src/kill-switch.ts';

const on = JSON.stringify({ reason: 'incident 42', since: '2026-11-23T03:00:00.000Z' });
const fileOn = JSON.stringify({ reason: 'from the file', since: '2026-11-23T03:00:00.000Z' });

describe('resolveKillSwitch', () => {
  it('is on when Redis holds the flag, with its reason', () => {
    expect(resolveKillSwitch({ ok: true, value: on }, null)).toEqual({
      on: true,
      source: 'redis',
      reason: 'incident 42',
      since: '2026-11-23T03:00:00.000Z',
    });
    expect(resolveKillSwitch({ ok: true, value: on }, fileOn)).toMatchObject({
      source: 'redis',
      reason: 'incident 42',
    });
  });

  it('is on when only the file says so, whether Redis answered without the flag (it restarted) or not at all', () => {
    expect(resolveKillSwitch({ ok: true, value: null }, fileOn)).toMatchObject({
      on: true,
      source: 'file',
      reason: 'from the file',
    });
    expect(resolveKillSwitch({ ok: false }, fileOn)).toMatchObject({ on: true, source: 'file' });
  });

  it('is off only when neither says on', () => {
    expect(resolveKillSwitch({ ok: true, value: null }, null)).toEqual({ on: false, source: 'none' });
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

describe('reseedValue', () => {
  it('writes the file back into a Redis that answered without the flag', () => {
    expect(reseedValue({ ok: true, value: null }, fileOn)).toBe(fileOn);
  });

  it('writes nothing when Redis holds the flag, cannot answer, or the file is off', () => {
    expect(reseedValue({ ok: true, value: on }, fileOn)).toBeUndefined();
    expect(reseedValue({ ok: false }, fileOn)).toBeUndefined();
    expect(reseedValue({ ok: true, value: null }, null)).toBeUndefined();
  });
});
