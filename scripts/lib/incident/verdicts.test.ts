// The verdicts that used to live only in the entry script, now pure.
import { describe, expect, it } from 'vitest';
import { judgeDrill, parseSwitchState, sshFinding } from './verdicts.ts';

const ok = (siteMs?: number) => ({ outcome: { ok: true }, siteMs });

describe('sshFinding', () => {
  it('ok with the time, or fail naming the address and the error', () => {
    expect(sshFinding({ ok: true, where: 'ops@h:22', ms: 80 })).toMatchObject({
      level: 'ok',
      summary: 'SSH ops@h:22 in 80 ms',
      ms: 80,
    });
    expect(sshFinding({ ok: false, where: 'ops@h:22', ms: 10_000, error: 'Timed out' })).toEqual({
      id: 'ssh',
      title: 'VM reachable',
      level: 'fail',
      summary: 'no SSH to ops@h:22: Timed out',
      threshold: 'fail unless SSH answers within 10 s',
      ms: 10_000,
    });
  });
});

describe('parseSwitchState', () => {
  it('reads the last line, after any log output of the binary', () => {
    expect(parseSwitchState('starting\n{"on":true,"reason":"x"}')).toEqual({ on: true, reason: 'x' });
  });
});

describe('judgeDrill', () => {
  it('passes when both sides changed within the limit and the routes were right', () => {
    expect(judgeDrill(ok(40), ok(900), [])).toEqual([]);
  });

  it('route problems first, then each side: failed, unchanged, or too slow', () => {
    expect(
      judgeDrill({ outcome: { ok: false, error: 'exit 1' } }, ok(undefined), [
        'on: GET /notes answered 200, want 503',
      ]),
    ).toEqual([
      'on: GET /notes answered 200, want 503',
      'on: exit 1',
      'off: the site did not change within 5 s',
    ]);
    expect(judgeDrill(undefined, ok(1001), [])).toEqual([
      'on: did not run',
      'off: took 1001 ms, limit 1000 ms',
    ]);
  });
});
