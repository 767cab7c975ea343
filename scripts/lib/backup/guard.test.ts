import { describe, expect, it } from 'vitest';
import { replacesProduction, writesRefusal } from './guard.ts';

const ks = (code: number, stdout = '', stderr = '') => ({ code, stdout, stderr });

describe('restore over production: the rules', () => {
  it('is --force into a database on the VM that is not scratch', () => {
    expect(replacesProduction({ force: true, toDatabase: 'app' })).toBe(true);
    expect(replacesProduction({ force: true })).toBe(true);
    expect(replacesProduction({ force: true, toDatabase: 'e2m_scratch_x' })).toBe(false);
    expect(replacesProduction({ force: true, toDatabase: 'app', toDefaultsFile: '/etc/c.cnf' })).toBe(false);
    expect(replacesProduction({ toDatabase: 'app' })).toBe(false);
  });

  it('may start when the kill switch is on, nothing is deployed, or --online', () => {
    expect(writesRefusal(ks(0, 'log line\n{"on":true,"source":"redis"}'), false)).toBeUndefined();
    expect(writesRefusal(undefined, false)).toBeUndefined();
    expect(writesRefusal(ks(0, '{"on":false}'), true)).toBeUndefined();
  });

  it('says why it may not, and what to do', () => {
    const how =
      'turn it on first (npm run incident -- kill-switch on), or pass --online to restore while the app serves';
    expect(writesRefusal(ks(0, '{"on":false}'), false)).toBe(
      `the app is taking writes (kill switch off): ${how}`,
    );
    for (const code of [2, 126, 127])
      expect(writesRefusal(ks(code), false)).toBe(
        'the app offers no kill switch to stop its writes: pass --online to restore while it serves',
      );
    expect(writesRefusal(ks(1, '', 'redis down\n'), false)).toBe(
      `the kill switch could not be read (exit 1: redis down): ${how}`,
    );
    expect(writesRefusal(ks(0, 'nope'), false)).toBe(`the kill switch's answer is unreadable (nope): ${how}`);
  });
});
