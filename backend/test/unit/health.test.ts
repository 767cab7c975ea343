import { describe, expect, it } from 'vitest';
import { withTimeout } from '../../src/kill-switch.ts';
import { failureCode } from '../../src/modules/health/health.routes.ts';

describe('failureCode', () => {
  it('names a timeout, an errno-style code, or just "error", never the message', async () => {
    const timedOut = await withTimeout(new Promise(() => {}), 5).catch((e) => e);
    expect(failureCode(timedOut)).toBe('timeout');
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.7:3306'), { code: 'ECONNREFUSED' });
    expect(failureCode(refused)).toBe('ECONNREFUSED');
    const denied = Object.assign(new Error("Access denied for user 'app'@'10.0.0.7'"), {
      code: 'ER_ACCESS_DENIED_ERROR',
    });
    expect(failureCode(denied)).toBe('ER_ACCESS_DENIED_ERROR');
    expect(failureCode(new Error("Stream isn't writeable and enableOfflineQueue options is false"))).toBe(
      'error',
    );
    expect(failureCode(Object.assign(new Error('x'), { code: 'not a code: 10.0.0.7' }))).toBe('error');
    expect(failureCode(undefined)).toBe('error');
  });
});
